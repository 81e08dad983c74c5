/**
 * Builds the `Authorization` header Dutchie expects: HTTP Basic with the location API key as the username
 * and the integrator key (or nothing) as the password: `Basic base64("<locationKey>:<integratorKey?>")`.
 */
export function dutchieAuthorization(locationKey: string, integratorKey?: string): string {
  return `Basic ${Buffer.from(`${locationKey}:${integratorKey ?? ''}`, 'utf8').toString('base64')}`
}

/** The header carrying the integrator's ConsumerKey GUID on `POST /preorder/submit`. */
export const DUTCHIE_CONSUMER_KEY_HEADER = 'ConsumerKey'
