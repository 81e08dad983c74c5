// A worker process of multiprocess.test.ts: its own pool on the test's schema.
import { runHammerWorker } from '@peak-oms/core/testing'
import { createPgStorage } from '../src/index'
import { pgUrl } from './pg-test-db'

await runHammerWorker((schema) => createPgStorage({ connectionString: pgUrl(), poolSize: 4 }, { schema }))
