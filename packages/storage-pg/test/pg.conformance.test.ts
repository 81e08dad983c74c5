import { runStorageConformance } from '@peak-oms/core/testing/vitest'
import { afterAll, describe, test } from 'vitest'
import type { PgStorage } from '../src/index'
import { dropRecycledSchemas, pgAvailable, pgPeer, recycledPgStorage, releasePgStorage } from './pg-test-db'

if (await pgAvailable()) {
  afterAll(dropRecycledSchemas)
  runStorageConformance({
    name: 'pg',
    // Each test gets an emptied schema of this file's own (see recycledPgStorage); all are dropped after.
    createStorage: () => recycledPgStorage(),
    peer: (storage) => pgPeer(storage as PgStorage),
    destroy: (storage) => releasePgStorage(storage as PgStorage),
  })
} else {
  describe('pg: storage conformance', () => {
    test.skip('PostgreSQL is not reachable (see the notice above)', () => {})
  })
}
