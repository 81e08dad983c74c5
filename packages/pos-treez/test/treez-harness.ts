import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { Clock, Logger, PosOrderInput, PosProduct, PosStockLevel } from '@peak-oms/core'
import { createFakeClock, type FakeClock } from '@peak-oms/core/testing'
import type { PosContractHarness, PosSalesHarness } from '@peak-oms/core/testing/vitest'
import { createTreezAdapter, type TreezAdapter, type TreezConfig } from '../src/index'
import {
  type FakeTreezOptions,
  type FakeTreezServer,
  startFakeTreezServer,
} from '../src/testing/fake-treez-server'
import {
  CERTIFICATE_ID,
  CUSTOMER_ID,
  CUSTOMER_NOTE,
  DISPENSARY,
  fixtureProducts,
  fixtureStock,
  ORGANIZATION_ID,
  P1,
  P2,
  P3,
  P4,
  P5,
} from '../src/testing/treez-fixtures'

export * from '../src/testing/treez-fixtures'

let keys: { privateKey: KeyObject; publicKey: KeyObject; pem: string } | undefined

/** One RSA key per test file (module state is per file in vitest). */
export function testKeys() {
  if (!keys) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
    keys = { ...pair, pem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }
  }
  return keys
}

export const EXPECTED_PRODUCTS: PosProduct[] = [
  {
    externalId: P1,
    sku: null,
    name: '100MG TABLETS - INDICA - ELEKTRA ICE - 1000MG PACKAGE',
    category: 'PILL',
    unit: 'each',
    priceMinor: 1850,
    currency: 'USD',
    active: true,
    cannabis: { thc: 0, cbd: 0, potencyUnit: 'mg', strain: null, netWeightMg: null },
    updatedAt: new Date('2026-04-24T08:09:09.508Z'),
  },
  {
    externalId: P2,
    sku: '850001234567',
    name: 'GELATO MINTZ SOLVENTLESS POD - 0.5 GRAMS',
    category: 'CARTRIDGE',
    unit: 'each',
    priceMinor: 4500,
    currency: 'USD',
    active: true,
    cannabis: { thc: null, cbd: null, potencyUnit: null, strain: 'Gelato Mintz', netWeightMg: 500 },
    updatedAt: new Date('2026-11-01T17:00:00.000Z'),
  },
  {
    externalId: P3,
    sku: null,
    name: 'BLUE DREAM BULK FLOWER',
    category: 'FLOWER',
    unit: 'mg',
    priceMinor: 999,
    currency: 'USD',
    active: true,
    cannabis: { thc: 210, cbd: 1, potencyUnit: 'mg', strain: 'Blue Dream', netWeightMg: 1000 },
    updatedAt: new Date('2026-10-15T15:30:00.000Z'),
  },
  {
    externalId: P4,
    sku: null,
    name: 'MEGA YUM YUMS - 50 MG',
    category: 'EDIBLE',
    unit: 'each',
    priceMinor: 2001,
    currency: 'USD',
    active: false,
    cannabis: { thc: 50, cbd: 0, potencyUnit: 'mg', strain: null, netWeightMg: null },
    updatedAt: new Date('2025-09-19T08:44:47.000Z'),
  },
  {
    externalId: P5,
    sku: null,
    name: 'STRAWNANA ORANGE POWDER HASH - 1 GRAMS',
    category: 'EXTRACT',
    unit: 'each',
    priceMinor: null,
    currency: 'USD',
    active: true,
    cannabis: { thc: null, cbd: null, potencyUnit: null, strain: null, netWeightMg: 1000 },
    updatedAt: new Date('2026-01-06T03:24:30.000Z'),
  },
]

/** ADULT only, FRONT OF HOUSE and DISPLAY CASE 1 only, FLOWER weighed. */
export const EXPECTED_INVENTORY: PosStockLevel[] = [
  {
    externalProductId: P1,
    externalLocationId: 'FRONT OF HOUSE',
    quantity: 16,
    unit: 'each',
    updatedAt: new Date('2026-11-20T16:00:00.000Z'),
  },
  {
    externalProductId: P2,
    externalLocationId: 'DISPLAY CASE 1',
    quantity: 1000,
    unit: 'each',
    updatedAt: new Date('2025-12-04T08:15:27.000Z'),
  },
  {
    externalProductId: P3,
    externalLocationId: 'FRONT OF HOUSE',
    quantity: 453_600,
    unit: 'mg',
    updatedAt: new Date('2026-11-21T19:00:00.000Z'),
  },
  {
    externalProductId: P3,
    externalLocationId: 'DISPLAY CASE 1',
    quantity: 28_000,
    unit: 'mg',
    updatedAt: new Date('2026-11-21T19:30:00.000Z'),
  },
  {
    externalProductId: P4,
    externalLocationId: 'DISPLAY CASE 1',
    quantity: 0,
    unit: 'each',
    updatedAt: new Date('2025-09-19T08:44:47.000Z'),
  },
  {
    externalProductId: P5,
    externalLocationId: 'FRONT OF HOUSE',
    quantity: 0,
    unit: 'each',
    updatedAt: new Date('2026-01-06T03:24:30.000Z'),
  },
]

export function harnessOrder(orderNumber: string): PosOrderInput {
  return {
    orderId: `order-${orderNumber}`,
    orderNumber,
    idempotencyKey: `idem-${orderNumber}`,
    channel: 'ecommerce',
    fulfillment: 'pickup',
    externalCustomerId: CUSTOMER_ID,
    lines: [
      {
        lineId: 'l1',
        externalProductId: P1,
        externalLocationId: 'FRONT OF HOUSE',
        quantity: 1,
        unitPriceMinor: 1850,
      },
      {
        lineId: 'l2',
        externalProductId: P2,
        externalLocationId: 'DISPLAY CASE 1',
        quantity: 2,
        unitPriceMinor: 4500,
      },
    ],
    currency: 'USD',
    totalMinor: 10_850,
    notes: CUSTOMER_NOTE,
  }
}

/** A logger that keeps every line, serialised, so tests can search it. */
export function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      lines.push(JSON.stringify({ level, msg, ...obj }))
    }
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

export interface TreezHarness extends PosContractHarness {
  adapter: TreezAdapter
  fake: FakeTreezServer
  config: TreezConfig
  /** The one clock the adapter and the fake both read (token iat/exp, expiry checks, ticket times). */
  clock: Clock
  logger: Logger & { lines: string[] }
  /** Another adapter on the same fake (e.g. after a process restart), with config overrides. */
  newAdapter(overrides?: Partial<TreezConfig>): TreezAdapter
}

/**
 * How long the harness adapter waits for an answer. Far above what the fake needs even on a loaded
 * machine, so only a deliberate `timeout` fault (which stalls for {@link HARNESS_STALL_MS}) times out.
 */
export const HARNESS_TIMEOUT_MS = 1000
/** How long the fake sits on a `timeout` fault: far beyond {@link HARNESS_TIMEOUT_MS}. */
export const HARNESS_STALL_MS = 30_000

/**
 * A clock that starts at the harness date and then runs at real speed, for the few tests whose fake
 * windows (rate limits) must slide while the adapter really waits. Everything else uses a stopped clock.
 */
export function runningClock(start: Date = createFakeClock().now()): Clock {
  const origin = performance.now()
  return { now: () => new Date(start.getTime() + (performance.now() - origin)) }
}

/** The adapter config the harness uses: fast backoff so fault tests run fast, and the harness clock. */
export function harnessConfig(baseUrl: string, logger: Logger, clock: Clock): TreezConfig {
  return {
    privateKey: testKeys().pem,
    certificateId: CERTIFICATE_ID,
    organizationId: ORGANIZATION_ID,
    dispensary: DISPENSARY,
    baseUrl,
    now: () => clock.now(),
    timeoutMs: HARNESS_TIMEOUT_MS,
    retry: { retries: 3, minTimeout: 10, maxTimeout: 40, maxRetryAfterMs: 5000 },
    logger,
    sellableLocations: ['FRONT OF HOUSE', 'DISPLAY CASE 1'],
    weighedCategories: ['FLOWER'],
    revenueSource: 'Peak OMS Test',
  }
}

/**
 * A fake Treez and an adapter on it that share one clock: by default a stopped clock at the harness date
 * (`createFakeClock()`), after every fixture timestamp, so nothing depends on today's date.
 */
export async function startTreezHarness(
  options: { adapter?: Partial<TreezConfig>; fake?: Partial<FakeTreezOptions>; clock?: Clock } = {},
): Promise<TreezHarness> {
  const clock = options.clock ?? createFakeClock()
  const fake = await startFakeTreezServer({
    dispensary: DISPENSARY,
    publicKey: testKeys().publicKey,
    certificateId: CERTIFICATE_ID,
    organizationId: ORGANIZATION_ID,
    products: fixtureProducts(),
    stock: fixtureStock(),
    customerIds: [CUSTOMER_ID],
    slowMs: HARNESS_STALL_MS,
    now: () => clock.now(),
    ...options.fake,
  })
  const logger = capturingLogger()
  const config: TreezConfig = { ...harnessConfig(fake.baseUrl, logger, clock), ...options.adapter }
  const adapter = createTreezAdapter(config)
  const pemBody = testKeys()
    .pem.split('\n')
    .filter((line) => line && !line.startsWith('-----'))
  return {
    adapter,
    fake,
    config,
    clock,
    logger,
    newAdapter: (overrides = {}) => createTreezAdapter({ ...config, ...overrides }),
    expected: { products: EXPECTED_PRODUCTS, inventory: EXPECTED_INVENTORY },
    order: harnessOrder,
    invalidOrder: (orderNumber) => {
      const order = harnessOrder(orderNumber)
      const [first, ...rest] = order.lines
      if (!first) throw new Error('no lines')
      return { ...order, lines: [{ ...first, externalProductId: 'not-a-uuid' }, ...rest] }
    },
    inject: (operation, fault, times) => fake.inject(operation, fault, times),
    requestCount: (operation) => fake.requestCount(operation),
    orderCount: () => fake.tickets().length,
    secrets: [...pemBody.slice(1, 4), CERTIFICATE_ID, ORGANIZATION_ID, CUSTOMER_ID, 'Jane Roe', '555-0100'],
    logLines: () => [...logger.lines],
    ...('advance' in clock ? { sales: treezSales(fake, clock as FakeClock) } : {}),
    close: () => fake.close(),
  }
}

/** Counter sales on the fake: `POS` tickets of P1 at FRONT OF HOUSE. */
function treezSales(fake: FakeTreezServer, clock: FakeClock): PosSalesHarness {
  const sell = (quantity: number, status?: string) =>
    fake.sellAtCounter([{ productId: P1, location: 'FRONT OF HOUSE', quantity }], status)
  return {
    clock,
    line: { externalProductId: P1, externalLocationId: 'FRONT OF HOUSE', unit: 'each' },
    sellAtCounter: async (quantity) => sell(quantity),
    sellAndVoid: async (quantity) => fake.setTicketStatus(sell(quantity, 'IN_PROCESS'), 'CANCELED'),
    refund: async (saleId) => void fake.refundTicket(saleId),
    completeOrder: async (ref) => fake.setTicketStatus(ref.externalId, 'COMPLETED'),
  }
}
