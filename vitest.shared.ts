/**
 * Resolve `@peak-oms/*` workspace packages to their TypeScript sources (the `@peak-oms/source`
 * export condition), so tests run against `src/` without a build step. Consumers never set it.
 */
export const sourceConditions = ['@peak-oms/source', 'module', 'node', 'development|production']
