import { type KeyObject, randomUUID, sign } from 'node:crypto'

/** Treez rejects (with 400) any token whose `exp` is not exactly `iat` + 30 s. */
export const TREEZ_TOKEN_TTL_MS = 30_000

/** The claims of a Treez self-signed token. Times are epoch **milliseconds**. */
export interface TreezTokenClaims {
  /** The exact URL being called, query string included. */
  aud: string
  /** Certificate ID. */
  iss: string
  /** Organisation GUID. */
  oid: string
  iat: number
  exp: number
  jti: string
}

/** What {@link createTreezToken} signs. */
export interface TreezTokenInput {
  privateKey: KeyObject
  certificateId: string
  organizationId: string
  /** The exact URL the token is for. */
  url: string
  /** @default new Date() */
  now?: Date
  /** @default a random UUID */
  jti?: string
}

/**
 * Builds the two-part token Treez expects in `Authorization` (no `Bearer`, no JOSE header):
 * `base64url(JSON claims) + "." + base64(RSA-SHA256 signature of the first part)`. A new token is
 * signed for every request because `aud` is the URL and the token lives 30 s.
 *
 * @example
 * ```ts
 * const token = createTreezToken({ privateKey, certificateId, organizationId, url })
 * await fetch(url, { headers: { Authorization: token } })
 * ```
 */
export function createTreezToken(input: TreezTokenInput): string {
  const iat = (input.now ?? new Date()).getTime()
  const claims: TreezTokenClaims = {
    aud: input.url,
    iss: input.certificateId,
    oid: input.organizationId,
    iat,
    exp: iat + TREEZ_TOKEN_TTL_MS,
    jti: input.jti ?? randomUUID(),
  }
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url')
  const signature = sign('RSA-SHA256', Buffer.from(payload, 'utf8'), input.privateKey).toString('base64')
  return `${payload}.${signature}`
}
