export {
  AccessPolicy,
  DEFAULT_ROLE_PERMISSIONS,
  PERMISSIONS,
  type Permission,
  permissionForEvent,
} from './access/access-policy'
export { type HistorySearchResult, HistoryService } from './audit/history-service'
export { type CreateOmsOptions, createOms, type Oms } from './create-oms'
export {
  BACKLOG_STATUSES,
  type DashboardAlert,
  DashboardService,
  type DashboardSummary,
  type DashboardSummaryInput,
  dashboardSummaryInputSchema,
  FULFILLED_STATUSES,
  type PosHealth,
  type PosHealthProvider,
  RETURN_STATUSES,
} from './dashboard/dashboard-service'
export * from './domain/commands'
export * from './domain/enums'
export { decimalToMinor, minorToDecimal } from './domain/money'
export { parseInput, toFieldIssues } from './domain/parse-input'
export * from './domain/schemas'
export { ConfigurationError } from './errors/configuration-error'
export { OMS_ERROR_CODES, type OmsErrorCode } from './errors/error-codes'
export {
  ConflictError,
  type FieldIssue,
  ForbiddenError,
  IdempotencyMismatchError,
  InsufficientStockError,
  InvalidMachineError,
  InvalidTransitionError,
  isOmsError,
  NotFoundError,
  OmsError,
  type OmsErrorOptions,
  ReservationExpiredError,
  ScanRejectedError,
  ValidationError,
} from './errors/oms-error'
export { isPosError, PosError, type PosErrorInit, type PosOperation } from './errors/pos-error'
export {
  isStorageError,
  StorageClosedError,
  StorageError,
  type StorageErrorCode,
  type StorageErrorInit,
  StorageFailureError,
  StorageNotMigratedError,
  type StorageNotMigratedInit,
  type StorageOperation,
  StorageUnavailableError,
  type StorageUnavailableInit,
} from './errors/storage-error'
export {
  type Allocation,
  type AllocationCandidate,
  type AllocationRequest,
  type AllocationStrategy,
  defaultAllocationStrategy,
} from './fulfillment/allocation'
export {
  createFulfillmentMachine,
  FULFILLMENT_ACTIONS,
  type FulfillmentContext,
  type FulfillmentEvent,
  type FulfillmentMachine,
  fulfillmentDefinition,
} from './fulfillment/fulfillment-machine'
export { FulfillmentService, type PickList, type PickListLine } from './fulfillment/fulfillment-service'
export {
  type FulfillmentFigures,
  type FulfillmentStatistics,
  type FulfillmentStatisticsInput,
  fulfillmentStatisticsInputSchema,
} from './fulfillment/fulfillment-statistics'
export { type ReturnOutcome, returnOutcomeSchema } from './fulfillment/returns'
export { BULK_CSV_COLUMNS, bulkResultCsv, parseBulkCsv } from './inventory/bulk-csv'
export {
  BULK_BATCH,
  type BulkProgress,
  type BulkRowResult,
  type BulkUpdateOptions,
  type BulkUpdateResult,
} from './inventory/bulk-update'
export {
  type CountedLine,
  CountService,
  type CountView,
  type DiscrepancyLine,
  type DiscrepancyReport,
} from './inventory/count-service'
export { commitHolds, isLive, releaseHolds, takeHolds } from './inventory/holds'
export {
  type Drift,
  InventoryService,
  type PackageHistory,
  type ReconcileResult,
  reconcile,
  type StockView,
} from './inventory/inventory-service'
export { isLow } from './inventory/low-stock'
export {
  type ExpireDueResult,
  type ReservationListResult,
  ReservationService,
} from './inventory/reservation-service'
export { isShortage, type LedgerEntry, type LedgerSink, recordMovements } from './inventory/stock-ledger'
export { allowedTransferSteps, TransferService } from './inventory/transfer-service'
export type {
  GuardFn,
  MachineDefinition,
  MachineExtension,
  StateDefinition,
  TransitionDefinition,
} from './machines/machine-definition'
export { StatusMachine, type TransitionResult } from './machines/status-machine'
export { createMemoryStorage, MemoryStorage } from './memory/memory-storage'
export { NoteService } from './notes/note-service'
export type { OrderBulkItemResult, OrderBulkProgress, OrderBulkResult } from './order/bulk-operations'
export {
  createOrderMachines,
  deliveryOrderDefinition,
  ORDER_ACTIONS,
  type OrderAction,
  type OrderContext,
  type OrderEvent,
  type OrderMachine,
  type OrderMachineExtension,
  type OrderMachineExtensions,
  pickupOrderDefinition,
  returnStates,
} from './order/order-machine'
export {
  decodeCursor,
  encodeCursor,
  MAX_TERM_LENGTH,
  type SearchPosition,
  searchTermsOf,
  searchWords,
} from './order/order-search'
export { type OrderSearchResult, OrderService } from './order/order-service'
export {
  type DomainEvent,
  type EventHandler,
  OutboxRelay,
  type RelayOptions,
  type RelayResult,
} from './outbox/outbox-relay'
export {
  PAYMENT_OPERATION_EVENT,
  refundLines,
} from './payments/payment-records'
export {
  type PaymentOrderInput,
  type PaymentRefInput,
  PaymentService,
  paymentOrderInputSchema,
  paymentRefInputSchema,
  type RetryPaymentInput,
  retryPaymentInputSchema,
} from './payments/payment-service'
export { type Clock, systemClock } from './ports/clock'
export { type Logger, silentLogger } from './ports/logger'
export type {
  CustomerNotification,
  LifecycleNotification,
  LifecycleTemplate,
  NoteNotification,
  Notifier,
} from './ports/notifier'
export type * from './ports/payments'
export {
  type PosAdapter,
  type PosAdapterCapabilities,
  type PosAddress,
  type PosFulfillmentType,
  type PosOrderContext,
  type PosOrderInput,
  type PosOrderLineInput,
  type PosOrderRef,
  type PosOrderStatus,
  type PosPage,
  type PosProduct,
  type PosPullOptions,
  type PosSale,
  type PosStockLevel,
  type PosUnit,
  pullAllPages,
} from './ports/pos-adapter'
export {
  abortableSleep,
  invalidPosResponse,
  parseJsonBody,
  parsePosResponse,
  parseRetryAfter,
  SlidingWindowLimiter,
  zodIssuePaths,
  zodPath,
} from './ports/pos-http-helpers'
export type * from './ports/storage'
export { DEFAULT_POLICIES, type OmsContext, type OmsPolicies, SYSTEM_ACTOR } from './services/oms-context'
export type { SyncConnection, SyncOptions } from './sync/sync-config'
export { connectionsFor, enqueueOrderSync, enqueuePull, type OrderSyncKind } from './sync/sync-enqueue'
export {
  BLOCKING_SYNC_STATUSES,
  type NewSyncJob,
  SYNC_JOB_KINDS,
  SYNC_JOB_STATUSES,
  type SyncJob,
  type SyncJobError,
  type SyncJobFilter,
  type SyncJobKind,
  type SyncJobOutcome,
  type SyncJobPatch,
  type SyncJobRepository,
  type SyncJobStatus,
  type SyncJobSummaryRow,
} from './sync/sync-job'
export { type SyncPosHealth, SyncService, syncPosHealthProvider } from './sync/sync-service'
export { type SyncDrainProgress, type SyncRunResult, SyncWorker } from './sync/sync-worker'
