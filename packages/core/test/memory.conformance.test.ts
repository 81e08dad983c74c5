import { createMemoryStorage } from '../src/index'
import { runStorageConformance } from '../src/testing/vitest'

runStorageConformance({ name: 'memory', createStorage: async () => createMemoryStorage() })
