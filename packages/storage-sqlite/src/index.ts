export { createSqliteStorage, SQLITE_COLUMN_TYPES, SqliteStorage } from './sqlite-storage'
export type {
  SqliteStorageConfig,
  SqliteStorageOptions,
  StorageMigrationResult,
} from './sqlite-storage-config'
