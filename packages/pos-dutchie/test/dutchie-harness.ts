import type { Clock, Logger, PosOperation, PosOrderInput } from '@peak-oms/core'
import { createFakeClock, type FakeClock } from '@peak-oms/core/testing'
import type { PosContractHarness, PosSalesHarness } from '@peak-oms/core/testing/vitest'
import { dutchieAuthorization } from '../src/dutchie-auth'
import type { DutchieConfig } from '../src/dutchie-config'
import { createDutchieAdapter, type DutchieAdapter } from '../src/index'
import {
  expectedLocationInventory,
  expectedProducts,
  FIXTURE_LOCATION,
  fixtureCustomers,
  fixtureInventory,
  fixtureProducts,
} from '../src/testing/dutchie-fixtures'
import {
  type FakeDutchieOptions,
  type FakeDutchieRoute,
  FakeDutchieServer,
} from '../src/testing/fake-dutchie-server'

export const LOCATION_KEY = 'lk_live_7Hq2ZpV9xW4mN8sT'
export const INTEGRATOR_KEY = 'ik_9c4e1f7a2b6d8e0f'
export const CONSUMER_KEY = '8e3f1c2a-5b7d-4e9f-a1c3-6d2b8f0e4a7c'

/** A logger that keeps every line, serialised, for leak checks. */
export function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = []
  const write =
    (level: string) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      lines.push(JSON.stringify({ level, msg, ...obj }))
    }
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') }
}

export const ROUTE_OF: Record<PosOperation, FakeDutchieRoute> = {
  pullProducts: 'products',
  pullInventory: 'inventory',
  pullSales: 'transactions',
  pushOrder: 'submit',
  updateOrder: 'update',
  cancelOrder: 'cancel',
  getOrderStatus: 'status',
  findOrder: 'openOrders',
}

/** A valid order for two products the fake stocks; its idempotency key is longer than Dutchie's 36. */
export function harnessOrder(orderNumber: string, customerId = '6603318'): PosOrderInput {
  return {
    orderId: `ord_${orderNumber}`,
    orderNumber,
    idempotencyKey: `peak-oms/order/${orderNumber}/push`,
    channel: 'ecommerce',
    fulfillment: 'pickup',
    externalCustomerId: customerId,
    lines: [
      {
        lineId: 'l1',
        externalProductId: '1184920',
        externalLocationId: null,
        quantity: 2,
        unitPriceMinor: 3500,
      },
      {
        lineId: 'l2',
        externalProductId: '1185377',
        externalLocationId: null,
        quantity: 1,
        unitPriceMinor: 2000,
      },
    ],
    currency: 'USD',
    totalMinor: 9000,
    notes: 'Customer asked for a paper bag',
  }
}

export interface DutchieTestRig {
  fake: FakeDutchieServer
  adapter: DutchieAdapter
  logger: Logger & { lines: string[] }
  /** The fake's clock (the adapter reads none): a stopped clock at the harness date. */
  clock: Clock
  close(): Promise<void>
}

/**
 * How long the rig's adapter waits for an answer. Far above what the fake needs even on a loaded
 * machine, so only a deliberate `timeout` fault (which stalls for {@link RIG_STALL_MS}) times out.
 */
export const RIG_TIMEOUT_MS = 1000
/** How long the fake sits on a `timeout` fault: far beyond {@link RIG_TIMEOUT_MS}. */
export const RIG_STALL_MS = 30_000

/** Starts a fake and an adapter with fast backoff, a generous rate limit and a timeout only faults reach. */
export async function startRig(
  options: { fake?: Partial<FakeDutchieOptions>; adapter?: Partial<DutchieConfig>; clock?: Clock } = {},
): Promise<DutchieTestRig> {
  const clock = options.clock ?? createFakeClock()
  const fake = await FakeDutchieServer.start({
    locationKey: LOCATION_KEY,
    integratorKey: INTEGRATOR_KEY,
    location: FIXTURE_LOCATION,
    products: fixtureProducts,
    inventory: fixtureInventory,
    customers: fixtureCustomers,
    slowMs: RIG_STALL_MS,
    now: () => clock.now(),
    ...options.fake,
  })
  const logger = capturingLogger()
  const adapter = createDutchieAdapter({
    baseUrl: fake.baseUrl,
    locationKey: LOCATION_KEY,
    integratorKey: INTEGRATOR_KEY,
    consumerKey: CONSUMER_KEY,
    timeoutMs: RIG_TIMEOUT_MS,
    retry: { retries: 3, minTimeout: 5, maxTimeout: 40, maxRetryAfterMs: 1500 },
    rateLimit: { requests: 1000, windowMs: 1000 },
    logger,
    ...options.adapter,
  })
  return { fake, adapter, logger, clock, close: () => fake.close() }
}

/** Everything the adapter is configured with, or the fake holds, that must never leak. */
export const SECRETS = [
  LOCATION_KEY,
  INTEGRATOR_KEY,
  CONSUMER_KEY,
  dutchieAuthorization(LOCATION_KEY, INTEGRATOR_KEY).slice('Basic '.length),
  ...fixtureCustomers.flatMap((customer) => [
    String(customer.customerId),
    customer.firstName,
    customer.lastName,
    customer.phone,
  ]),
]

/** The shared contract harness around the fake. */
export async function startContractHarness(
  adapter: Partial<DutchieConfig> = {},
): Promise<PosContractHarness> {
  const rig = await startRig({ adapter })
  return {
    adapter: rig.adapter,
    clock: rig.clock,
    expected: { products: expectedProducts, inventory: expectedLocationInventory() },
    order: (orderNumber) => harnessOrder(orderNumber),
    invalidOrder: (orderNumber) => {
      const order = harnessOrder(orderNumber)
      return {
        ...order,
        lines: [
          {
            lineId: 'x1',
            externalProductId: '999999',
            externalLocationId: null,
            quantity: 1,
            unitPriceMinor: 100,
          },
        ],
      }
    },
    inject: (operation, fault, times) => rig.fake.inject(ROUTE_OF[operation], fault, times),
    requestCount: (operation) => rig.fake.count(ROUTE_OF[operation]),
    orderCount: () => rig.fake.orders.size,
    secrets: SECRETS,
    logLines: () => rig.logger.lines,
    ...('advance' in rig.clock ? { sales: dutchieSales(rig.fake, rig.clock as FakeClock) } : {}),
    close: rig.close,
  }
}

/** Counter sales on the fake: `Retail` transactions of product 1184920 (a count) at the key's location. */
function dutchieSales(fake: FakeDutchieServer, clock: FakeClock): PosSalesHarness {
  const sell = (quantity: number) => fake.sellAtCounter([{ productId: 1184920, quantity }])
  return {
    clock,
    line: {
      externalProductId: '1184920',
      externalLocationId: String(FIXTURE_LOCATION.locationId),
      unit: 'each',
    },
    sellAtCounter: async (quantity) => String(sell(quantity)),
    sellAndVoid: async (quantity) => fake.voidTransaction(sell(quantity)),
    refund: async (saleId) => void fake.returnTransaction(Number(saleId)),
    completeOrder: async (ref) => fake.setStatus(Number(ref.externalId), 'Complete'),
  }
}
