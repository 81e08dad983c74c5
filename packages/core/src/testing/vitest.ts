/**
 * `@peak-oms/core/testing/vitest`: the conformance suites every storage and POS adapter runs. They register
 * vitest tests (and the storage suite runs fast-check properties), so a project importing this needs
 * `vitest` and `fast-check` installed. The plain helpers (fake clock, fixtures, invariant checks) are in
 * `@peak-oms/core/testing`, which needs neither.
 */
export {
  type PosAdapterContractTarget,
  type PosContractHarness,
  type PosFault,
  type PosSalesHarness,
  runPosAdapterContract,
} from './pos-adapter-contract'
export { runStorageConformance } from './storage-conformance'
export type { ConformanceOptions, ConformanceTarget, InterleavingPeer } from './suites/suite'
