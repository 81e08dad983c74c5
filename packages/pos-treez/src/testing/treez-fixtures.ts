import type { TreezProductRecord, TreezStockRecord } from './fake-treez-server'
import productExample from './fixtures/product-list-page.json'

/**
 * A small catalogue for the fake Treez: the vendor's example product plus four built on its shape, with
 * stock at three locations. Shared by the adapter's tests and by examples that run against the fake.
 */
export const DISPENSARY = 'peak-test-store'
export const CERTIFICATE_ID = '5c2d7a0e-1f4b-4c8e-9a61-3b7e2f90c4d1'
export const ORGANIZATION_ID = '9e8b1c55-2a7d-4f03-8b6e-71d4c0a2e9f8'
export const CUSTOMER_ID = '700123'
export const CUSTOMER_NOTE = 'Call Jane Roe on 555-0100 at the door'

export const P1 = '6c6ef005-b89d-48dc-ad89-62602d3d5791' // verbatim example product (PILL)
export const P2 = '00781822-9a00-433e-96ea-cb129286e571' // 0.5 g pod
export const P3 = 'a1b2c3d4-0000-4000-8000-000000000003' // bulk flower, sold by weight
export const P4 = '0160bfb5-3da0-4146-8c98-59eedac49a1a' // inactive edible
export const P5 = '0238cdfa-9cb9-46ce-a295-c1f9a494506e' // hash with no price, oversold

const exampleProduct = productExample.data.product_list[0] as unknown as TreezProductRecord

function product(
  id: string,
  patch: {
    status?: string
    updated: string
    category: string
    fields: Record<string, unknown>
    price: number | null
    barcodes?: unknown[]
  },
): TreezProductRecord {
  const base = structuredClone(exampleProduct)
  return {
    ...base,
    product_id: id,
    product_status: patch.status ?? 'ACTIVE',
    last_updated_at: patch.updated,
    category_type: patch.category,
    product_configurable_fields: {
      ...(base.product_configurable_fields as Record<string, unknown>),
      external_id: id,
      ...patch.fields,
    },
    pricing:
      patch.price === null ? null : { ...(base.pricing as Record<string, unknown>), price_sell: patch.price },
    product_barcodes: patch.barcodes ?? [],
  }
}

/** Five products: the verbatim example plus four built on its shape. */
export function fixtureProducts(): TreezProductRecord[] {
  return [
    structuredClone(exampleProduct),
    product(P2, {
      updated: '2026-11-01T10:00:00.000-07:00',
      category: 'CARTRIDGE',
      fields: {
        name: 'GELATO MINTZ SOLVENTLESS POD - 0.5 GRAMS',
        uom: 'GRAMS',
        amount: 0.5,
        size: '0.5 G',
        total_mg_thc: null,
        total_mg_cbd: null,
        strain_name: 'Gelato Mintz',
      },
      price: 45,
      barcodes: ['850001234567'],
    }),
    product(P3, {
      updated: '2026-10-15T08:30:00.000-07:00',
      category: 'FLOWER',
      fields: {
        name: 'BLUE DREAM BULK FLOWER',
        uom: 'GRAMS',
        amount: 1,
        size: '1 G',
        total_mg_thc: 210,
        total_mg_cbd: 1,
        strain_name: 'Blue Dream',
        total_flower_weight_g: 1,
      },
      price: 9.99,
    }),
    product(P4, {
      status: 'INACTIVE',
      updated: '2025-09-19T01:44:47.000-07:00',
      category: 'EDIBLE',
      fields: {
        name: 'MEGA YUM YUMS - 50 MG',
        uom: 'MILLIGRAMS',
        amount: 50,
        total_mg_thc: 50,
        total_mg_cbd: 0,
      },
      price: 20.005,
    }),
    product(P5, {
      updated: '2026-01-05T19:24:30.000-08:00',
      category: 'EXTRACT',
      fields: {
        name: 'STRAWNANA ORANGE POWDER HASH - 1 GRAMS',
        uom: 'GRAMS',
        amount: 1,
        total_mg_thc: null,
        total_mg_cbd: null,
        total_concentrate_weight_g: 1,
      },
      price: null,
    }),
  ]
}

const row = (
  id: string,
  type: string,
  uom: string,
  details: Array<[string, 'ADULT' | 'MEDICAL', number, string]>,
): TreezStockRecord => ({
  product_id: id,
  product_status: 'ACTIVE',
  product_name: `PRODUCT ${id.slice(0, 8)}`,
  product_brand: null,
  product_type: type,
  product_subtype: null,
  product_uom: uom,
  product_amount: 1,
  product_classification: null,
  product_sku: [],
  inventory_details: details.map(([location_name, inventory_type, sellable_quantity, last_updated_at]) => ({
    location_name,
    inventory_type,
    sellable_quantity,
    last_updated_at,
  })),
})

export function fixtureStock(): TreezStockRecord[] {
  return [
    row(P1, 'PILL', 'MILLIGRAMS', [
      ['FRONT OF HOUSE', 'ADULT', 16, '2026-11-20T09:00:00.000-07:00'],
      ['FRONT OF HOUSE', 'MEDICAL', 4, '2026-11-20T09:00:00.000-07:00'],
    ]),
    row(P2, 'CARTRIDGE', 'GRAMS', [
      ['DISPLAY CASE 1', 'ADULT', 1000.0, '2025-12-04T00:15:27.000-08:00'],
      ['BACK OF HOUSE', 'ADULT', 5000.0, '2025-12-15T18:18:12.000-08:00'],
    ]),
    row(P3, 'FLOWER', 'GRAMS', [
      ['FRONT OF HOUSE', 'ADULT', 453.6, '2026-11-21T12:00:00.000-07:00'],
      ['DISPLAY CASE 1', 'ADULT', 28, '2026-11-21T12:30:00.000-07:00'],
    ]),
    row(P4, 'EDIBLE', 'MILLIGRAMS', [['DISPLAY CASE 1', 'ADULT', 0, '2025-09-19T01:44:47.000-07:00']]),
    row(P5, 'EXTRACT', 'GRAMS', [['FRONT OF HOUSE', 'ADULT', -2, '2026-01-05T19:24:30.000-08:00']]),
  ]
}

/** What the harness adapter config must make of the fixtures, written out by hand. */
