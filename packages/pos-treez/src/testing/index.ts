/**
 * `@peak-oms/pos-treez/testing`: a local fake of the POS API (the routes the adapter uses), with faults to
 * inject, for tests of a host's wiring and of the sync engine. Not for production.
 */
export * from './fake-treez-server'
export * from './treez-fixtures'
