import { runPosAdapterContract } from '@peak-oms/core/testing/vitest'
import { startContractHarness } from './dutchie-harness'

// Pushing needs the ConsumerKey (Dutchie dedupes submits only with it); without one pushOrder refuses,
// which dutchie-faults.test.ts checks.
runPosAdapterContract({ name: 'dutchie', setup: () => startContractHarness(), sales: true })
