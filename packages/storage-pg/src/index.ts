export { createPgStorage, PG_COLUMN_TYPES, PgStorage } from './pg-storage'
export type { StorageMigrationResult } from '@peak-oms/storage-sql'
export type { PgPool, PgPoolClient, PgStorageConfig, PgStorageOptions } from './pg-storage-config'
