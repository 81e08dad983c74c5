import { BlazeAdapter } from './blaze-adapter'
import { type BlazeConfig, resolveBlazeConfig } from './blaze-config'

/**
 * Creates the BLAZE Partner API adapter. The config is validated first: a bad one throws core's
 * `ValidationError` naming every bad field.
 *
 * @example
 * ```ts
 * import { createBlazeAdapter } from '@peak-oms/pos-blaze'
 *
 * const pos = createBlazeAdapter({
 *   partnerKey: process.env.BLAZE_PARTNER_KEY!,
 *   developerKey: process.env.BLAZE_DEVELOPER_KEY!,
 *   cuid: process.env.BLAZE_KIOSK_CUID,
 *   logger,
 * })
 * const page = await pos.pullProducts({ pageSize: 100 })
 * ```
 */
export function createBlazeAdapter(config: BlazeConfig): BlazeAdapter {
  return new BlazeAdapter(resolveBlazeConfig(config))
}

export { BlazeAdapter } from './blaze-adapter'
export {
  BLAZE_DEFAULT_BASE_URL,
  type BlazeConfig,
  type BlazeRateLimitOptions,
  type BlazeRetryOptions,
  type ResolvedBlazeConfig,
} from './blaze-config'
