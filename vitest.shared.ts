/**
 * Resolve `@peak-oms/*` workspace packages to their TypeScript sources (the `@peak-oms/source`
 * export condition), so tests run against `src/` without a build step. Consumers never set it.
 */
export const sourceConditions = ['@peak-oms/source', 'module', 'node', 'development|production']

/**
 * Timeouts are a safety net against a hung test, never a measure of speed: a loaded CI machine may run a
 * database test many times slower than an idle one, and that must not fail it.
 */
export const sharedTimeouts = { testTimeout: 60_000, hookTimeout: 120_000 }
