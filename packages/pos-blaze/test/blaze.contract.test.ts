import { runPosAdapterContract } from '@peak-oms/core/testing'
import { startBlazeHarness } from './blaze-harness'

runPosAdapterContract({ name: 'blaze', setup: () => startBlazeHarness() })
