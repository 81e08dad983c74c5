// A worker process of multiprocess.test.ts: its own pool on the test's schema. Imported by path because
// `@peak-oms/core/testing` also loads vitest, which refuses to run outside the test runner.
import { runHammerWorker } from '../../core/src/testing/multiprocess'
import { createPgStorage } from '../src/index'
import { pgUrl } from './pg-test-db'

await runHammerWorker((schema) => createPgStorage({ connectionString: pgUrl(), poolSize: 4 }, { schema }))
