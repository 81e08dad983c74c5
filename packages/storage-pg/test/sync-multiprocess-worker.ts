// A worker process of sync-multiprocess.test.ts: its own pool on the test's schema.
import { runSyncHammerWorker } from '@peak-oms/core/testing'
import { createPgStorage } from '../src/index'
import { pgUrl } from './pg-test-db'

await runSyncHammerWorker((schema) => createPgStorage({ connectionString: pgUrl(), poolSize: 2 }, { schema }))
