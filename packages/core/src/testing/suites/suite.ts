import type { Storage } from '../../ports/storage'

export interface ConformanceTarget {
  /** Prefixes every test name: "pg: storage conformance › orders › …". */
  name: string
  /** An empty (or at least isolated), migrated storage. Called before each test: keep it cheap. */
  createStorage(): Promise<Storage>
  /** Closes or drops what `createStorage` made. Default: `storage.close()`. */
  destroy?(storage: Storage): Promise<void>
}

export interface ConformanceOptions {
  /** fast-check runs per property. @default 200 */
  numRuns?: number
  /** Concurrent callers in the oversell tests. @default 16 */
  concurrency?: number
}

export type Suite = (target: ConformanceTarget, options: Required<ConformanceOptions>) => void
