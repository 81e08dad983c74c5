export { createSqliteStorage, SQLITE_COLUMN_TYPES, SqliteStorage } from './sqlite-storage'
export type { StorageMigrationResult } from '@peak-oms/storage-sql'
export type { SqliteStorageConfig, SqliteStorageOptions } from './sqlite-storage-config'
