import { defineProject } from 'vitest/config'
import { sourceConditions } from '../../vitest.shared'

export default defineProject({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: { name: 'storage-sqlite' },
})
