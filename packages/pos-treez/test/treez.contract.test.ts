import { runPosAdapterContract } from '@peak-oms/core/testing'
import { startTreezHarness } from './treez-harness'

runPosAdapterContract({ name: 'treez', setup: () => startTreezHarness() })
