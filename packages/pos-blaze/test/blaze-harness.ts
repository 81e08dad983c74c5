import type { Clock, Logger, PosOrderInput, PosProduct, PosStockLevel } from '@peak-oms/core'
import { createFakeClock, type FakeClock } from '@peak-oms/core/testing'
import type { PosContractHarness, PosSalesHarness } from '@peak-oms/core/testing/vitest'
import { type BlazeAdapter, type BlazeConfig, createBlazeAdapter } from '../src/index'
import {
  DEFAULT_CONSUMER,
  defaultFakeProducts,
  type FakeBlazeOptions,
  FakeBlazeServer,
  INVENTORY_MAIN,
  INVENTORY_SAFE,
} from '../src/testing/fake-blaze-server'

export const BLUE_DREAM = '65f1c0a2e4b0a1b2c3d4e5f6'
export const GUMMIES = '65f1c0a2e4b0a1b2c3d4e7a0'
export const OG_KUSH = '65f1c0a2e4b0a1b2c3d4e800'
export const PRE_ROLL = '65f1c0a2e4b0a1b2c3d4e900'
export const VAPE = '65f1c0a2e4b0a1b2c3d4ea00'
const HOUR = 3_600_000

/** A logger that keeps every call, serialised, so tests can search it for secrets. */
export function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      lines.push(JSON.stringify({ level, msg, ...obj }))
    }
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** What the adapter must make of the default catalogue, written out by hand. */
export function expectedCatalogue(now: number): { products: PosProduct[]; inventory: PosStockLevel[] } {
  const product = (
    fields: Omit<PosProduct, 'currency' | 'cannabis' | 'updatedAt'> & {
      cannabis?: Partial<PosProduct['cannabis']>
      ageHours: number
    },
  ): PosProduct => {
    const { ageHours, cannabis, ...rest } = fields
    return {
      ...rest,
      currency: 'USD',
      cannabis: { thc: null, cbd: null, potencyUnit: null, strain: null, netWeightMg: null, ...cannabis },
      updatedAt: new Date(now - ageHours * HOUR),
    }
  }
  const products = [
    product({
      externalId: BLUE_DREAM,
      sku: 'BD35',
      name: 'Blue Dream 3.5g',
      category: 'Flower',
      unit: 'each',
      priceMinor: 3500,
      active: true,
      cannabis: { thc: 21.4, cbd: 0.1, potencyUnit: '%', strain: 'Hybrid' },
      ageHours: 2,
    }),
    product({
      externalId: GUMMIES,
      sku: 'WMG100',
      name: 'Watermelon Gummies 100mg',
      category: 'Edibles',
      unit: 'each',
      priceMinor: 2000,
      active: true,
      cannabis: { thc: 0, cbd: 0, potencyUnit: '%' },
      ageHours: 72,
    }),
    product({
      externalId: OG_KUSH,
      sku: 'OGK-BULK',
      name: 'OG Kush (bulk)',
      category: 'Flower',
      unit: 'mg',
      priceMinor: 950,
      active: true,
      cannabis: { thc: 24, potencyUnit: '%', strain: 'Indica' },
      ageHours: 1,
    }),
    product({
      externalId: PRE_ROLL,
      sku: null,
      name: 'House Pre-roll 5pk',
      category: 'Pre-Rolls',
      unit: 'each',
      priceMinor: 1235,
      active: true,
      ageHours: 240,
    }),
    product({
      externalId: VAPE,
      sku: 'DV1',
      name: 'Discontinued Vape',
      category: 'Vapes',
      unit: 'each',
      priceMinor: null,
      active: false,
      ageHours: 720,
    }),
  ]
  const level = (
    externalProductId: string,
    externalLocationId: string,
    quantity: number,
    unit: 'each' | 'mg',
    ageHours: number,
  ): PosStockLevel => ({
    externalProductId,
    externalLocationId,
    quantity,
    unit,
    updatedAt: new Date(now - ageHours * HOUR),
  })
  const inventory = [
    level(BLUE_DREAM, INVENTORY_MAIN, 30, 'each', 2),
    level(BLUE_DREAM, INVENTORY_SAFE, 12, 'each', 2),
    level(GUMMIES, INVENTORY_MAIN, 118, 'each', 72),
    level(OG_KUSH, INVENTORY_MAIN, 453_500, 'mg', 1),
    level(OG_KUSH, INVENTORY_SAFE, 28_000, 'mg', 1),
    level(PRE_ROLL, INVENTORY_MAIN, 0, 'each', 240),
  ]
  return { products, inventory }
}

/** A valid order for two stocked products (2 × Blue Dream, 1 × gummies). */
export function harnessOrder(orderNumber: string): PosOrderInput {
  return {
    orderId: `order-${orderNumber}`,
    orderNumber,
    idempotencyKey: `idem-${orderNumber}`,
    channel: 'kiosk',
    fulfillment: 'pickup',
    externalCustomerId: null,
    lines: [
      {
        lineId: 'l1',
        externalProductId: BLUE_DREAM,
        externalLocationId: null,
        quantity: 2,
        unitPriceMinor: 3500,
      },
      {
        lineId: 'l2',
        externalProductId: GUMMIES,
        externalLocationId: null,
        quantity: 1,
        unitPriceMinor: 2000,
      },
    ],
    currency: 'USD',
    totalMinor: 9000,
    notes: null,
  }
}

export interface BlazeHarness extends PosContractHarness {
  adapter: BlazeAdapter
  fake: FakeBlazeServer
  logger: ReturnType<typeof capturingLogger>
  /** The one clock the adapter and the fake both read. */
  clock: Clock
  /** The clock's time when the harness started (epoch ms): the default catalogue is dated from it. */
  now: number
}

/**
 * How long the harness adapter waits for an answer. Far above what the fake needs even on a loaded
 * machine, so only a deliberate `timeout` fault (which stalls for {@link HARNESS_STALL_MS}) times out.
 */
export const HARNESS_TIMEOUT_MS = 1000
/** How long the fake sits on a `timeout` fault: far beyond {@link HARNESS_TIMEOUT_MS}. */
export const HARNESS_STALL_MS = 30_000

/**
 * A clock that starts at the harness date and then runs at real speed (on `performance.now()`, like the
 * adapter's rate limiter), for tests whose fake must see real time pass. Everything else uses a stopped clock.
 */
export function runningClock(start: Date = createFakeClock().now()): Clock {
  const origin = performance.now()
  return { now: () => new Date(start.getTime() + (performance.now() - origin)) }
}

/**
 * A fresh fake BLAZE and an adapter pointed at it with short backoff, sharing one clock: by default a
 * stopped clock at the harness date (`createFakeClock()`), so nothing depends on today's date.
 */
export async function startBlazeHarness(
  options: { fake?: Partial<FakeBlazeOptions>; adapter?: Partial<BlazeConfig>; clock?: Clock } = {},
): Promise<BlazeHarness> {
  const clock = options.clock ?? createFakeClock()
  const now = clock.now().getTime()
  const fake = await new FakeBlazeServer({
    products: defaultFakeProducts(now),
    slowMs: HARNESS_STALL_MS,
    now: () => clock.now().getTime(),
    ...options.fake,
  }).start()
  const logger = capturingLogger()
  const adapter = createBlazeAdapter({
    baseUrl: fake.baseUrl,
    partnerKey: fake.partnerKey,
    developerKey: fake.developerKey,
    cuid: DEFAULT_CONSUMER.id,
    clock,
    timeoutMs: HARNESS_TIMEOUT_MS,
    retry: { retries: 3, minTimeout: 10, maxTimeout: 40 },
    rateLimit: { requests: 1000, windowMs: 1000 },
    logger,
    // The expected catalogue counts every inventory (the safe too); the default, sellable stock only, has
    // its own test in blaze-pull.test.ts.
    quantitySource: 'quantities',
    ...options.adapter,
  })
  return {
    adapter,
    fake,
    logger,
    clock,
    now,
    expected: expectedCatalogue(now),
    order: harnessOrder,
    invalidOrder: (orderNumber) => {
      const order = harnessOrder(orderNumber)
      // More than the 30 sellable: the cart prices, but BLAZE refuses to place it.
      const lines = order.lines.map((line) => ({ ...line, quantity: 500 }))
      return { ...order, lines, totalMinor: 500 * 5500 }
    },
    inject: (operation, fault, times) => fake.inject(operation, fault, times),
    requestCount: (operation) => fake.requestCount(operation),
    orderCount: () => fake.orderCount(),
    secrets: [
      fake.partnerKey,
      fake.developerKey,
      DEFAULT_CONSUMER.id,
      DEFAULT_CONSUMER.firstName,
      DEFAULT_CONSUMER.lastName,
      DEFAULT_CONSUMER.email,
      DEFAULT_CONSUMER.primaryPhone,
    ],
    logLines: () => [...logger.lines],
    ...('advance' in clock ? { sales: blazeSales(fake, clock as FakeClock) } : {}),
    close: () => fake.close(),
  }
}

/** Counter sales on the fake: `Sale` transactions of the gummies from the main inventory. */
function blazeSales(fake: FakeBlazeServer, clock: FakeClock): PosSalesHarness {
  const sell = (quantity: number) =>
    fake.sellAtCounter([{ productId: GUMMIES, quantity, inventoryId: INVENTORY_MAIN }])
  return {
    clock,
    line: { externalProductId: GUMMIES, externalLocationId: INVENTORY_MAIN, unit: 'each' },
    sellAtCounter: async (quantity) => sell(quantity),
    sellAndVoid: async (quantity) => fake.voidTransaction(sell(quantity)),
    refund: async (saleId) => void fake.refundTransaction(saleId),
    completeOrder: async (ref) => fake.completeCart(ref.externalId),
  }
}
