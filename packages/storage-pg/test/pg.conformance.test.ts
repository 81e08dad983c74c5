import { runStorageConformance } from '@peak-oms/core/testing/vitest'
import { describe, test } from 'vitest'
import type { PgStorage } from '../src/index'
import { freshPgStorage, pgAvailable, pgPeer } from './pg-test-db'

if (await pgAvailable()) {
  runStorageConformance({
    name: 'pg',
    createStorage: () => freshPgStorage(),
    peer: (storage) => pgPeer(storage as PgStorage),
    async destroy(storage) {
      await (storage as PgStorage).dropSchema()
      await storage.close()
    },
  })
} else {
  describe('pg: storage conformance', () => {
    test.skip('PostgreSQL is not reachable (see the notice above)', () => {})
  })
}
