import { describe } from 'vitest'
import { accessAuditNotesSuite } from './suites/access-audit-notes.suite'
import { accessExamplesSuite } from './suites/access-examples.suite'
import { accessMatrixSuite } from './suites/access-matrix.suite'
import { bulkOperationsSuite } from './suites/bulk-operations.suite'
import { fulfillmentSuite } from './suites/fulfillment.suite'
import { fulfillmentBypassSuite } from './suites/fulfillment-bypass.suite'
import { fulfillmentStatisticsSuite } from './suites/fulfillment-statistics.suite'
import { historyHoldsDashboardSuite } from './suites/history-holds-dashboard.suite'
import { holdRulesSuite } from './suites/hold-rules.suite'
import { idempotencySuite } from './suites/idempotency.suite'
import { inputFuzzSuite } from './suites/input-fuzz.suite'
import { interleavingsSuite } from './suites/interleavings.suite'
import { inventorySuite } from './suites/inventory.suite'
import { inventoryOperationsSuite } from './suites/inventory-operations.suite'
import { modelSuite } from './suites/model.suite'
import { orderEditsSuite } from './suites/order-edits.suite'
import { orderSearchSuite } from './suites/order-search.suite'
import { ordersSuite } from './suites/orders.suite'
import { outboxSuite } from './suites/outbox.suite'
import { paymentsSuite } from './suites/payments.suite'
import { primitivesSuite } from './suites/primitives.suite'
import { reservationsSuite } from './suites/reservations.suite'
import type { ConformanceOptions, ConformanceTarget, Suite } from './suites/suite'
import { syncSuite } from './suites/sync.suite'

const suites: Suite[] = [
  primitivesSuite,
  ordersSuite,
  orderSearchSuite,
  historyHoldsDashboardSuite,
  bulkOperationsSuite,
  orderEditsSuite,
  reservationsSuite,
  holdRulesSuite,
  interleavingsSuite,
  inventorySuite,
  fulfillmentSuite,
  fulfillmentStatisticsSuite,
  fulfillmentBypassSuite,
  inventoryOperationsSuite,
  accessAuditNotesSuite,
  accessMatrixSuite,
  accessExamplesSuite,
  inputFuzzSuite,
  idempotencySuite,
  outboxSuite,
  paymentsSuite,
  syncSuite,
  modelSuite,
]

/**
 * The one storage conformance suite. An adapter's test file calls it once at top level; it registers the
 * tests itself: primitives, every service end to end, invariants I1–I7 after each scenario, and
 * model-based command sequences.
 *
 * @example
 * ```ts
 * runStorageConformance({ name: 'pg', createStorage: () => freshPgStorage(), destroy: (s) => s.close() })
 * ```
 */
export function runStorageConformance(target: ConformanceTarget, options: ConformanceOptions = {}): void {
  const resolved: Required<ConformanceOptions> = {
    numRuns: options.numRuns ?? 200,
    concurrency: options.concurrency ?? 16,
  }
  describe(`${target.name}: storage conformance`, () => {
    for (const suite of suites) suite(target, resolved)
  })
}
