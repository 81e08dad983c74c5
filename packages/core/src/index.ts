export { decimalToMinor, minorToDecimal } from './domain/money'
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
  ValidationError,
} from './errors/oms-error'
export { isPosError, PosError, type PosErrorInit, type PosOperation } from './errors/pos-error'
export { type Clock, systemClock } from './ports/clock'
export { type Logger, silentLogger } from './ports/logger'
export {
  type PosAdapter,
  type PosAdapterCapabilities,
  type PosFulfillmentType,
  type PosOrderInput,
  type PosOrderLineInput,
  type PosOrderRef,
  type PosOrderStatus,
  type PosPage,
  type PosProduct,
  type PosPullOptions,
  type PosStockLevel,
  type PosUnit,
  pullAllPages,
} from './ports/pos-adapter'
