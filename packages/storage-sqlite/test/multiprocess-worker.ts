// A worker process of multiprocess.test.ts: its own connection to the test's database file. Imported by
// path because `@peak-oms/core/testing` also loads vitest, which refuses to run outside the test runner.
import { runHammerWorker } from '../../core/src/testing/multiprocess'
import { createSqliteStorage } from '../src/index'

await runHammerWorker((filename) => createSqliteStorage({ filename }))
