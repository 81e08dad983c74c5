import { runPosAdapterContract } from '@peak-oms/core/testing/vitest'
import { startContractHarness } from './dutchie-harness'

runPosAdapterContract({ name: 'dutchie', setup: () => startContractHarness() })

// Without a ConsumerKey Dutchie does not dedupe submits: the adapter's read-back lookup must do it.
runPosAdapterContract({
  name: 'dutchie (no ConsumerKey)',
  setup: () => startContractHarness({ consumerKey: undefined }),
})
