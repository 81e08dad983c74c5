import type { ResolvedBlazeConfig } from './blaze-config'

/**
 * The two BLAZE auth headers: the Partner Key in `x-api-key` (or `partner_key` for older setups) and the
 * shop's Developer Key raw in `Authorization`, with no `Bearer` or other scheme.
 */
export function blazeAuthHeaders(
  config: Pick<ResolvedBlazeConfig, 'partnerKey' | 'developerKey' | 'partnerKeyHeader'>,
): Record<string, string> {
  return { [config.partnerKeyHeader]: config.partnerKey, Authorization: config.developerKey }
}

const EMAIL = /[^\s@"'<>]+@[^\s@"'<>]+\.[a-z]{2,}/gi
const PHONE = /\+?\d[\d ().-]{7,}\d/g
const MAX_VENDOR_MESSAGE = 200

/**
 * Makes a vendor-supplied text safe to put in an error message: removes the configured secrets, anything
 * shaped like an e-mail address or phone number, and cuts it to 200 characters.
 */
export function redactVendorText(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('[redacted]')
  }
  out = out.replace(EMAIL, '[email]').replace(PHONE, '[phone]')
  return out.length > MAX_VENDOR_MESSAGE ? `${out.slice(0, MAX_VENDOR_MESSAGE)}…` : out
}
