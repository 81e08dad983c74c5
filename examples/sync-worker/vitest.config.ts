import { defineProject } from 'vitest/config'
import { sharedTimeouts, sourceConditions } from '../../vitest.shared'

export default defineProject({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: { ...sharedTimeouts, name: 'sync-worker' },
})
