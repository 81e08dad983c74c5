export { createTreezAdapter, formatTreezDate, TreezAdapter } from './treez-adapter'
export {
  createTreezToken,
  TREEZ_TOKEN_TTL_MS,
  type TreezTokenClaims,
  type TreezTokenInput,
} from './treez-auth'
export type { TreezConfig, TreezInventoryType, TreezOrderSource, TreezTicketType } from './treez-config'
export { TREEZ_STATUS_MAP } from './treez-mapper'
export { TREEZ_TICKET_STATUSES, type TreezTicketStatus } from './treez-schemas'
