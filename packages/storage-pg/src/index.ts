export { createPgStorage, PG_COLUMN_TYPES, PgStorage } from './pg-storage'
export type {
  PgPool,
  PgPoolClient,
  PgStorageConfig,
  PgStorageOptions,
  StorageMigrationResult,
} from './pg-storage-config'
