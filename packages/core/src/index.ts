export * from './domain/commands'
export * from './domain/enums'
export { decimalToMinor, minorToDecimal } from './domain/money'
export { parseInput, toFieldIssues } from './domain/parse-input'
export * from './domain/schemas'
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
export {
  createFulfillmentMachine,
  FULFILLMENT_ACTIONS,
  type FulfillmentContext,
  type FulfillmentEvent,
  type FulfillmentMachine,
  fulfillmentDefinition,
} from './fulfillment/fulfillment-machine'
export type {
  GuardFn,
  MachineDefinition,
  MachineExtension,
  StateDefinition,
  TransitionDefinition,
} from './machines/machine-definition'
export { StatusMachine, type TransitionResult } from './machines/status-machine'
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
