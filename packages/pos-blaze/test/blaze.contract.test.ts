import { runPosAdapterContract } from '@peak-oms/core/testing/vitest'
import { startBlazeHarness } from './blaze-harness'

runPosAdapterContract({ name: 'blaze', setup: () => startBlazeHarness(), sales: true })
