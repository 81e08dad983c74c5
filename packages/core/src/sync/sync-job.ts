/** What a sync job does. Order jobs are about one order; pulls are about the POS as a whole. */
export const SYNC_JOB_KINDS = [
  'push_order',
  'update_order',
  'cancel_order',
  'pull_products',
  'pull_inventory_full',
  'pull_inventory_incremental',
  'pull_sales',
  'pull_order_status',
] as const
export type SyncJobKind = (typeof SYNC_JOB_KINDS)[number]

/**
 * `pending` (due at `nextAttemptAt`), `running` (leased to a worker until `leaseUntil`), `succeeded`,
 * `dead` (failed for good, or by the operator's word: waits for `retry` or `skip`), `skipped` (by an
 * operator, with a reason; or made pointless by a later change).
 */
export const SYNC_JOB_STATUSES = ['pending', 'running', 'succeeded', 'dead', 'skipped'] as const
export type SyncJobStatus = (typeof SYNC_JOB_STATUSES)[number]

/** Statuses that keep later jobs of the same entity waiting: a cancel never overtakes its create. */
export const BLOCKING_SYNC_STATUSES: readonly SyncJobStatus[] = ['pending', 'running', 'dead']

/** A failed attempt, as recorded on the job: a stable code and a message without PII or credentials. */
export interface SyncJobError {
  code: string
  message: string
}

/** One durable unit of POS work. */
export interface SyncJob {
  id: string
  /** Creation order, assigned by the storage: jobs of one entity run in this order. */
  seq: number
  /** The POS connection's name (`treez`, `dutchie`, `blaze`, or the host's own). */
  pos: string
  kind: SyncJobKind
  /** The order id for order jobs; for pulls, what is pulled (`inventory`, `products`, `sales`, `order-status`). */
  entityId: string
  /** The store of the order (null for pulls): store-scoped readers see only theirs. */
  storeId: string | null
  status: SyncJobStatus
  /** Attempts started so far (each claim counts one). */
  attempts: number
  /** When a pending job may run (again). */
  nextAttemptAt: Date
  lastError: SyncJobError | null
  /** When the last attempt failed (null when none did). */
  lastFailedAt: Date | null
  leaseOwner: string | null
  leaseUntil: Date | null
  /** Why an operator skipped or retried it, or what a success left to know (e.g. `not on the POS`). */
  note: string | null
  createdAt: Date
  updatedAt: Date
  /** When it succeeded, was skipped, or went dead. */
  finishedAt: Date | null
}

export type NewSyncJob = Pick<SyncJob, 'id' | 'pos' | 'kind' | 'entityId' | 'storeId' | 'createdAt'> & {
  /** @default createdAt */
  nextAttemptAt?: Date
}

/** What a worker writes when an attempt ends. */
export type SyncJobOutcome =
  | { status: 'succeeded'; note?: string | null }
  | { status: 'pending'; nextAttemptAt: Date; error: SyncJobError }
  | { status: 'dead'; error: SyncJobError }

export interface SyncJobFilter {
  statuses?: readonly SyncJobStatus[]
  pos?: string
  kind?: SyncJobKind
  entityId?: string
  /** Store-scoped readers: jobs of these stores only (pulls have none, so they are left out). */
  storeIds?: readonly string[]
  limit?: number
  offset?: number
  /** Newest first (`seq` descending). @default false */
  newestFirst?: boolean
}

/** Per POS and status: how many jobs, the oldest one's creation, the latest finish and failure. */
export interface SyncJobSummaryRow {
  pos: string
  status: SyncJobStatus
  count: number
  oldestCreatedAt: Date | null
  latestFinishedAt: Date | null
  latestFailedAt: Date | null
}

/** An operator's or the engine's change to a job that is not leased to a worker. */
export interface SyncJobPatch {
  status: SyncJobStatus
  /** Set the attempt count (an operator's retry starts it again at 0). */
  attempts?: number
  nextAttemptAt?: Date
  note?: string | null
  updatedAt: Date
  finishedAt?: Date | null
}

/** The durable job table (`tx.syncJobs`). */
export interface SyncJobRepository {
  /**
   * Inserts jobs, coalescing: a job whose (pos, kind, entity) already has a `pending` job is not inserted
   * (the pending one will do the same thing). Call it in the transaction of the change that causes it.
   */
  enqueue(jobs: readonly NewSyncJob[]): Promise<void>
  /**
   * Leases up to `limit` due jobs to `owner` until `now + leaseMs` (attempts + 1, status `running`): pending
   * jobs whose `nextAttemptAt <= now` and running jobs whose lease ended (their worker died), each only if
   * no earlier job of the same (pos, entity) is pending, running or dead. Concurrent claimers never get
   * the same job while its lease runs (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
   */
  claim(options: {
    owner: string
    limit: number
    leaseMs: number
    now: Date
    pos?: readonly string[]
  }): Promise<SyncJob[]>
  /** Records the end of an attempt if `owner` still holds the job (status running); false otherwise. */
  finish(id: string, owner: string, outcome: SyncJobOutcome, now: Date): Promise<boolean>
  /**
   * Compare-and-swap for the operator and the engine: writes `patch` only while the job's status is one
   * of `expected`. Returns the job as written, or null (missing, or in another status).
   */
  update(id: string, expected: readonly SyncJobStatus[], patch: SyncJobPatch): Promise<SyncJob | null>
  get(id: string): Promise<SyncJob | null>
  /** Oldest first (`seq` order). */
  list(filter: SyncJobFilter): Promise<SyncJob[]>
  summary(): Promise<SyncJobSummaryRow[]>
}
