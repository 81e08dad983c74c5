export { createSqliteStorage, SQLITE_COLUMN_TYPES, SqliteStorage } from './sqlite-storage'
export type { SqliteStorageConfig, SqliteStorageOptions } from './sqlite-storage-config'
