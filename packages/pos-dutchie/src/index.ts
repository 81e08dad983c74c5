export { createDutchieAdapter, DutchieAdapter } from './dutchie-adapter'
export { dutchieAuthorization } from './dutchie-auth'
export type { DutchieConfig, DutchieRateLimitOptions, DutchieRetryOptions } from './dutchie-config'
export { dutchieIdempotencyKey, mapOrderStatus } from './dutchie-mapper'
