import type {
  PaymentLine,
  PaymentOperation,
  PaymentOperationKind,
  PaymentOperationStatus,
  PaymentRepository,
} from '@peak-oms/core'
import type { Kysely, Selectable } from 'kysely'
import { readJson, readTs, readTsOrNull, writeJson } from './codec'
import type { PaymentsTable, PeakDatabase } from './database'
import type { SqlDialect } from './sql-tx'

const toPayment = (r: Selectable<PaymentsTable>): PaymentOperation => ({
  id: r.id,
  orderId: r.order_id,
  storeId: r.store_id,
  customerId: r.customer_id,
  kind: r.kind as PaymentOperationKind,
  sequence: Number(r.sequence),
  idempotencyKey: r.idempotency_key,
  status: r.status as PaymentOperationStatus,
  amountMinor: Number(r.amount_minor),
  currency: r.currency,
  lines: readJson<PaymentLine[]>(r.lines),
  attempts: Number(r.attempts),
  lastError:
    r.last_error_code === null ? null : { code: r.last_error_code, message: r.last_error_message ?? '' },
  providerReference: r.provider_reference,
  createdAt: readTs(r.created_at),
  updatedAt: readTs(r.updated_at),
  completedAt: readTsOrNull(r.completed_at),
  version: Number(r.version),
})

/** Payment operations on Kysely: one row each, every field a column. */
export function createSqlPayments(db: Kysely<PeakDatabase>, dialect: SqlDialect): PaymentRepository {
  const { codec } = dialect
  const columns = (p: PaymentOperation) => ({
    status: p.status,
    amount_minor: p.amountMinor,
    lines: writeJson(p.lines),
    attempts: p.attempts,
    last_error_code: p.lastError?.code ?? null,
    last_error_message: p.lastError?.message ?? null,
    provider_reference: p.providerReference,
    version: p.version,
    updated_at: codec.ts(p.updatedAt),
    completed_at: codec.ts(p.completedAt),
  })
  return {
    async insert(operations) {
      if (operations.length === 0) return
      await db
        .insertInto('oms_payments')
        .values(
          operations.map((p) => ({
            id: p.id,
            order_id: p.orderId,
            store_id: p.storeId,
            customer_id: p.customerId,
            kind: p.kind,
            sequence: p.sequence,
            idempotency_key: p.idempotencyKey,
            currency: p.currency,
            created_at: codec.ts(p.createdAt),
            ...columns(p),
          })),
        )
        .execute()
    },
    async get(id) {
      const row = await db.selectFrom('oms_payments').selectAll().where('id', '=', id).executeTakeFirst()
      return row ? toPayment(row) : null
    },
    async listByOrder(orderId) {
      const rows = await db
        .selectFrom('oms_payments')
        .selectAll()
        .where('order_id', '=', orderId)
        .orderBy('sequence')
        .execute()
      return rows.map(toPayment)
    },
    async update(operation, expectedVersion) {
      const r = await db
        .updateTable('oms_payments')
        .set(columns(operation))
        .where('id', '=', operation.id)
        .where('version', '=', expectedVersion)
        .executeTakeFirst()
      return Number(r.numUpdatedRows) > 0
    },
  }
}
