/**
 * `@peak-oms/core/testing`: plain helpers for a host's own tests, on any test runner. Nothing here imports
 * vitest or fast-check. The conformance suites that do are under `@peak-oms/core/testing/vitest`.
 */
export { createFakeClock, type FakeClock } from './fake-clock'
export {
  type FakePaymentCall,
  type FakePaymentFault,
  type FakePaymentRecord,
  FakePayments,
} from './fake-payments'
export { FakePos, type FakePosFault, type FakePosTicket } from './fake-pos'
export { actors, createWorld, placeOrder, uid, type World } from './fixtures'
export { checkInvariants, snapshotStorage } from './invariants'
export {
  type HammerOptions,
  type HammerOutcome,
  type HammerReport,
  type HammerWorkerConfig,
  type HammerWorld,
  runHammer,
  runHammerWorker,
  type SampleStats,
  seedHammerWorld,
} from './multiprocess'
export { PausableStorage, type PauseGate, type PausePoint } from './pausable-storage'
export type { PosFault } from './pos-fault'
export {
  runSyncHammer,
  runSyncHammerWorker,
  type SyncHammerOptions,
  type SyncHammerOutcome,
  type SyncHammerWorkerConfig,
} from './sync-multiprocess'
