// A worker process of multiprocess.test.ts: its own connection to the test's database file.
import { runHammerWorker } from '@peak-oms/core/testing'
import { createSqliteStorage } from '../src/index'

await runHammerWorker((filename) => createSqliteStorage({ filename }))
