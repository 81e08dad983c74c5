import type { Storage } from '../../ports/storage'

export interface ConformanceTarget {
  /** Prefixes every test name: "pg: storage conformance › orders › …". */
  name: string
  /** An empty (or at least isolated), migrated storage. Called before each test: keep it cheap. */
  createStorage(): Promise<Storage>
  /** Closes or drops what `createStorage` made. Default: `storage.close()`. */
  destroy?(storage: Storage): Promise<void>
  /**
   * A second app instance on the same data, for the forced-interleaving tests (e.g. another connection
   * pool on the same PostgreSQL schema). Default: the same storage, which is right for a backend with one
   * writer at a time: there, a transaction that has asked to run while another one is open is waiting.
   */
  peer?(storage: Storage): Promise<InterleavingPeer>
}

/** Another instance on the same data, and a way to see it wait. */
export interface InterleavingPeer {
  storage: Storage
  /** Whether a transaction of this instance is waiting for a lock held by another transaction. */
  isWaitingForLock(): Promise<boolean>
  close(): Promise<void>
}

export interface ConformanceOptions {
  /** fast-check runs per property. @default 200 */
  numRuns?: number
  /** Concurrent callers in the oversell tests. @default 16 */
  concurrency?: number
}

export type Suite = (target: ConformanceTarget, options: Required<ConformanceOptions>) => void
