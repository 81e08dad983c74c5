export { type Codec, pgCodec, sqliteCodec } from './codec'
export type { PeakDatabase } from './database'
export { type ColumnTypes, createSchema, migrationProvider } from './schema'
export { createSqlTx, rowSequence, type SqlDialect } from './sql-tx'
