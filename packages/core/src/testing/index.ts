export { createFakeClock, type FakeClock } from './fake-clock'
export { actors, createWorld, placeOrder, uid, type World } from './fixtures'
export { checkInvariants, snapshotStorage } from './invariants'
export { type HammerOutcome, runHammer, runHammerWorker, seedHammerWorld } from './multiprocess'
export { PausableStorage, type PauseGate, type PausePoint } from './pausable-storage'
export {
  type PosAdapterContractTarget,
  type PosContractHarness,
  type PosFault,
  runPosAdapterContract,
} from './pos-adapter-contract'
export { runStorageConformance } from './storage-conformance'
export type { ConformanceOptions, ConformanceTarget, InterleavingPeer } from './suites/suite'
