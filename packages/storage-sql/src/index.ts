export { type Codec, pgCodec, sqliteCodec } from './codec'
export { ConfigChecks, hasMethods } from './config-checks'
export type { PeakDatabase } from './database'
export {
  adoptLegacyMigrations,
  LEGACY_MIGRATION_TABLE,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  type MigrationTarget,
  OMS_TABLES,
  runMigrations,
} from './migrations'
export { backfillFulfillmentStats, type ColumnTypes, createSchema, migrationProvider } from './schema'
export { createSqlTx, rowSequence, type SqlDialect } from './sql-tx'
export {
  CallbackErrors,
  type Classification,
  classifyPgError,
  classifySqliteError,
  type ErrorClassifier,
  type ErrorContext,
  type StorageMigrationResult,
  type StorageTarget,
  safeCopy,
  toMigrationResult,
  toOmsError,
  toStorageError,
} from './storage-errors'
