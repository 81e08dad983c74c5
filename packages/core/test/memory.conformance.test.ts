import { createMemoryStorage } from '../src/index'
import { runStorageConformance } from '../src/testing/index'

runStorageConformance({ name: 'memory', createStorage: async () => createMemoryStorage() })
