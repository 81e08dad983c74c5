export {
  type PosAdapterContractTarget,
  type PosContractHarness,
  type PosFault,
  runPosAdapterContract,
} from './pos-adapter-contract'
