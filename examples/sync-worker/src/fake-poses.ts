import { generateKeyPairSync } from 'node:crypto'
import type { Clock, PosAdapter } from '@peak-oms/core'
import { createBlazeAdapter } from '@peak-oms/pos-blaze'
import {
  DEFAULT_CONSUMER,
  defaultFakeProducts,
  FakeBlazeServer,
  INVENTORY_MAIN,
} from '@peak-oms/pos-blaze/testing'
import { createDutchieAdapter } from '@peak-oms/pos-dutchie'
import {
  fixtureProducts as dutchieProducts,
  FakeDutchieServer,
  FIXTURE_LOCATION,
  fixtureCustomers,
  fixtureInventory,
} from '@peak-oms/pos-dutchie/testing'
import { createTreezAdapter } from '@peak-oms/pos-treez'
import {
  CERTIFICATE_ID,
  CUSTOMER_ID,
  DISPENSARY,
  fixtureProducts,
  fixtureStock,
  ORGANIZATION_ID,
  P1,
  startFakeTreezServer,
} from '@peak-oms/pos-treez/testing'
import { type OutageSwitch, startOutageSwitch } from './outage'

/** One POS the scenario talks to: its adapter, how we map to it, and what it holds. */
export interface DemoPos {
  pos: 'treez' | 'dutchie' | 'blaze'
  adapter: PosAdapter
  /** The POS's product id for the house item, and its location / customer for our store. */
  productId: string
  locationId: string | null
  customerId: string
  /** The orders it holds, as `number → status` (its own word). */
  tickets(): Array<{ externalId: string; reference: string; status: string }>
  outage: OutageSwitch
}

export interface DemoPoses {
  poses: DemoPos[]
  close(): Promise<void>
}

/** BLAZE's id of the Blue Dream product in the fake's default catalogue. */
const BLUE_DREAM = '65f1c0a2e4b0a1b2c3d4e5f6'

/** Short adapter timeouts and one quick retry of their own: the engine does the patient retrying. */
const retry = { retries: 1, minTimeout: 5, maxTimeout: 20, maxRetryAfterMs: 1000 }
const timeoutMs = 2000

/**
 * Starts the project's fake Treez, Dutchie and BLAZE servers, each behind an outage switch, and adapters
 * configured against them (the same way a host configures them against the real APIs).
 */
export async function startFakePoses(clock: Clock): Promise<DemoPoses> {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const treezFake = await startFakeTreezServer({
    dispensary: DISPENSARY,
    publicKey: keys.publicKey,
    certificateId: CERTIFICATE_ID,
    organizationId: ORGANIZATION_ID,
    products: fixtureProducts(),
    stock: fixtureStock(),
    customerIds: [CUSTOMER_ID],
    rateLimit: { requests: 100_000, windowMs: 1000 },
    now: () => clock.now(),
  })
  const dutchieFake = await FakeDutchieServer.start({
    locationKey: 'lk_demo_location_key',
    location: FIXTURE_LOCATION,
    products: dutchieProducts,
    inventory: fixtureInventory,
    customers: fixtureCustomers,
    now: () => clock.now(),
  })
  const blazeFake = await new FakeBlazeServer({
    products: defaultFakeProducts(clock.now().getTime()),
    now: () => clock.now().getTime(),
  }).start()
  const [treezOutage, dutchieOutage, blazeOutage] = await Promise.all([
    startOutageSwitch(treezFake.baseUrl),
    startOutageSwitch(dutchieFake.baseUrl),
    startOutageSwitch(blazeFake.baseUrl),
  ])
  const poses: DemoPos[] = [
    {
      pos: 'treez',
      adapter: createTreezAdapter({
        privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        certificateId: CERTIFICATE_ID,
        organizationId: ORGANIZATION_ID,
        dispensary: DISPENSARY,
        baseUrl: treezOutage.baseUrl,
        now: () => clock.now(),
        timeoutMs,
        retry,
        sellableLocations: ['FRONT OF HOUSE', 'DISPLAY CASE 1'],
        weighedCategories: ['FLOWER'],
        revenueSource: 'Peak OMS sync-worker example',
      }),
      productId: P1,
      locationId: 'FRONT OF HOUSE',
      customerId: CUSTOMER_ID,
      tickets: () =>
        treezFake.tickets().map((t) => ({
          externalId: String(t.ticket_id),
          reference: String(t.external_order_number ?? ''),
          status: String(t.order_status ?? ''),
        })),
      outage: treezOutage,
    },
    {
      pos: 'dutchie',
      adapter: createDutchieAdapter({
        baseUrl: dutchieOutage.baseUrl,
        locationKey: 'lk_demo_location_key',
        // Without it Dutchie would not dedupe a retried submit, and the adapter refuses to push.
        consumerKey: '3f2b9c1e-8d4a-4f7e-9b6c-2a1d0e5f7c3b',
        timeoutMs,
        retry,
        rateLimit: { requests: 1000, windowMs: 1000 },
      }),
      productId: '1184920',
      locationId: null,
      customerId: String(fixtureCustomers[0]?.customerId),
      tickets: () =>
        [...dutchieFake.orders.values()].map((o) => ({
          externalId: String(o.preOrderId),
          reference: String(o.notes ?? '').split('\n')[0] ?? '',
          status: o.status,
        })),
      outage: dutchieOutage,
    },
    {
      pos: 'blaze',
      adapter: createBlazeAdapter({
        baseUrl: blazeOutage.baseUrl,
        partnerKey: blazeFake.partnerKey,
        developerKey: blazeFake.developerKey,
        cuid: DEFAULT_CONSUMER.id,
        clock,
        timeoutMs,
        retry,
        rateLimit: { requests: 1000, windowMs: 1000 },
      }),
      productId: BLUE_DREAM,
      locationId: INVENTORY_MAIN,
      customerId: DEFAULT_CONSUMER.id,
      tickets: () =>
        [...blazeFake.carts.values()]
          .filter((c) => c.cartStatus !== 'InProgress')
          .map((c) => ({
            externalId: String(c.id),
            reference: String(c.externalId ?? ''),
            status: String(c.cartStatus),
          })),
      outage: blazeOutage,
    },
  ]
  return {
    poses,
    async close() {
      await Promise.all(poses.map((p) => p.outage.close()))
      await Promise.all([treezFake.close(), dutchieFake.close(), blazeFake.close()])
    },
  }
}
