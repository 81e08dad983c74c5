import { runPosAdapterContract } from '@peak-oms/core/testing/vitest'
import { startTreezHarness } from './treez-harness'

runPosAdapterContract({ name: 'treez', setup: () => startTreezHarness(), sales: true })
