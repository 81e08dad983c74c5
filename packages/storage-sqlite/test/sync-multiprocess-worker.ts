// A worker process of sync-multiprocess.test.ts: its own connection to the test's database file.
import { runSyncHammerWorker } from '@peak-oms/core/testing'
import { createSqliteStorage } from '../src/index'

await runSyncHammerWorker((filename) => createSqliteStorage({ filename }))
