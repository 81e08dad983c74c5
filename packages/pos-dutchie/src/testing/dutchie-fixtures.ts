import type { PosProduct, PosStockLevel } from '@peak-oms/core'
import type { JsonObject } from './fake-dutchie-server'
import productsPage from './fixtures/products-page.json'
import inventoryPage from './fixtures/reporting-inventory-page.json'

export type { JsonObject }

/** The two example products [SPEC-shaped], plus a product sold by the gram and an inactive one. */
export const fixtureProducts: JsonObject[] = [
  ...(productsPage as JsonObject[]),
  {
    productId: 1190001,
    sku: 'FL-OG-BULK',
    internalName: 'OG Kush bulk',
    productName: 'OG Kush (by the gram)',
    masterCategory: 'Flower',
    category: 'Bulk Flower',
    strain: 'OG Kush',
    strainType: 'Indica',
    netWeight: null,
    netWeightUnit: null,
    isCannabis: true,
    isActive: true,
    isCoupon: false,
    thcContent: 24.1,
    thcContentUnit: '%',
    cbdContent: null,
    cbdContentUnit: null,
    productGrams: null,
    price: 9.99,
    medPrice: 8.5,
    recPrice: 9.99,
    unitType: 'Grams',
    isMedicalOnly: false,
    // No offset: Dutchie dates are UTC even when written without a `Z`.
    lastModifiedDateUTC: '2026-03-04T12:00:00',
  },
  {
    productId: 1190002,
    sku: 'PR-5PK',
    internalName: null,
    productName: null,
    onlineTitle: 'Pre-Roll 5 x 1g',
    masterCategory: 'Pre-Rolls',
    category: null,
    strain: null,
    netWeight: 5,
    netWeightUnit: 'g',
    isCannabis: true,
    isActive: false,
    isCoupon: false,
    thcContent: null,
    thcContentUnit: null,
    cbdContent: null,
    cbdContentUnit: null,
    price: 12.5,
    medPrice: null,
    recPrice: null,
    unitType: 'Qty',
    isMedicalOnly: false,
    lastModifiedDateUTC: '2025-01-10T08:00:00.000Z',
  },
]

/** The two example rows, a second package of Blue Dream, the bulk flower in grams, and an empty package. */
export const fixtureInventory: JsonObject[] = [
  ...(inventoryPage as JsonObject[]),
  {
    inventoryId: 55509999,
    productId: 1184920,
    sku: 'FL-BD-35',
    productName: 'Blue Dream 3.5g',
    quantityAvailable: 8,
    quantityUnits: 'Qty',
    allocatedQuantity: 0,
    unitWeight: 3.5,
    unitPrice: 35.0,
    batchId: 88013,
    flowerEquivalent: 3.5,
    lastModifiedDateUtc: '2026-03-07T10:00:00.000Z',
    roomQuantities: [{ roomId: 301, room: 'Sales Floor', quantityAvailable: 8 }],
    medicalOnly: false,
    isCannabis: true,
  },
  {
    inventoryId: 55510001,
    productId: 1190001,
    sku: 'FL-OG-BULK',
    productName: 'OG Kush (by the gram)',
    quantityAvailable: 27.5,
    quantityUnits: 'g',
    allocatedQuantity: 0,
    unitWeight: 1,
    unitPrice: 9.99,
    batchId: 88200,
    flowerEquivalent: 1,
    lastModifiedDateUtc: '2026-03-06T09:00:00.000Z',
    roomQuantities: [
      { roomId: 301, room: 'Sales Floor', quantityAvailable: 20.25 },
      { roomId: 302, room: 'Vault', quantityAvailable: 7.25 },
    ],
    medicalOnly: false,
    isCannabis: true,
  },
  {
    inventoryId: 55510002,
    productId: 1190002,
    sku: 'PR-5PK',
    productName: 'Pre-Roll 5 x 1g',
    quantityAvailable: 0,
    quantityUnits: 'Qty',
    allocatedQuantity: 0,
    unitWeight: 5,
    unitPrice: 12.5,
    batchId: 88300,
    flowerEquivalent: 5,
    lastModifiedDateUtc: null,
    roomQuantities: [],
    medicalOnly: false,
    isCannabis: true,
  },
]

/** Customers the fake knows; their names must never reach errors or logs. */
export const fixtureCustomers = [
  { customerId: 6603318, firstName: 'Jane', lastName: 'Dolittle-Secret', phone: '555-0142-7788' },
  { customerId: 6603319, firstName: 'Omar', lastName: 'Quietname', phone: '555-0199-1234' },
]

export const FIXTURE_LOCATION = { locationId: 4412, locationName: 'Example Dispensary - Downtown' }

/** What the adapter must map the fixture catalog to (written out by hand, not by the mapper). */
export const expectedProducts: PosProduct[] = [
  {
    externalId: '1184920',
    sku: 'FL-BD-35',
    name: 'Blue Dream 3.5g',
    category: 'Flower',
    unit: 'each',
    priceMinor: 3500,
    currency: 'USD',
    active: true,
    cannabis: { thc: 21.4, cbd: 0.1, potencyUnit: '%', strain: 'Blue Dream', netWeightMg: 3500 },
    updatedAt: new Date('2026-03-02T18:22:41.000Z'),
  },
  {
    externalId: '1185377',
    sku: 'ED-GUM-100',
    name: 'Watermelon Gummies 10pk 100mg',
    category: 'Gummies',
    unit: 'each',
    priceMinor: 2000,
    currency: 'USD',
    active: true,
    cannabis: { thc: 100, cbd: 0, potencyUnit: 'mg', strain: null, netWeightMg: 40000 },
    updatedAt: new Date('2026-03-05T09:10:02.000Z'),
  },
  {
    externalId: '1190001',
    sku: 'FL-OG-BULK',
    name: 'OG Kush (by the gram)',
    category: 'Bulk Flower',
    unit: 'mg',
    priceMinor: 999,
    currency: 'USD',
    active: true,
    cannabis: { thc: 24.1, cbd: null, potencyUnit: '%', strain: 'OG Kush', netWeightMg: null },
    updatedAt: new Date('2026-03-04T12:00:00.000Z'),
  },
  {
    externalId: '1190002',
    sku: 'PR-5PK',
    name: 'Pre-Roll 5 x 1g',
    category: 'Pre-Rolls',
    unit: 'each',
    priceMinor: 1250,
    currency: 'USD',
    active: false,
    cannabis: { thc: null, cbd: null, potencyUnit: null, strain: null, netWeightMg: 5000 },
    updatedAt: new Date('2025-01-10T08:00:00.000Z'),
  },
]

/** Stock per product at the key's location (`stockLocations: 'location'`). */
export const expectedLocationInventory = (
  locationId = String(FIXTURE_LOCATION.locationId),
): PosStockLevel[] => [
  {
    externalProductId: '1184920',
    externalLocationId: locationId,
    quantity: 50,
    unit: 'each',
    updatedAt: new Date('2026-03-07T10:00:00.000Z'),
  },
  {
    externalProductId: '1185377',
    externalLocationId: locationId,
    quantity: 118,
    unit: 'each',
    updatedAt: new Date('2026-03-06T15:41:19.000Z'),
  },
  {
    externalProductId: '1190001',
    externalLocationId: locationId,
    quantity: 27500,
    unit: 'mg',
    updatedAt: new Date('2026-03-06T09:00:00.000Z'),
  },
  {
    externalProductId: '1190002',
    externalLocationId: locationId,
    quantity: 0,
    unit: 'each',
    updatedAt: null,
  },
]

/** Stock per product and room name (`stockLocations: 'rooms'`). */
export const expectedRoomInventory: PosStockLevel[] = [
  {
    externalProductId: '1184920',
    externalLocationId: 'Sales Floor',
    quantity: 38,
    unit: 'each',
    updatedAt: new Date('2026-03-07T10:00:00.000Z'),
  },
  {
    externalProductId: '1184920',
    externalLocationId: 'Vault',
    quantity: 12,
    unit: 'each',
    updatedAt: new Date('2026-03-06T15:41:19.000Z'),
  },
  {
    externalProductId: '1185377',
    externalLocationId: 'Sales Floor',
    quantity: 118,
    unit: 'each',
    updatedAt: new Date('2026-03-06T15:41:19.000Z'),
  },
  {
    externalProductId: '1190001',
    externalLocationId: 'Sales Floor',
    quantity: 20250,
    unit: 'mg',
    updatedAt: new Date('2026-03-06T09:00:00.000Z'),
  },
  {
    externalProductId: '1190001',
    externalLocationId: 'Vault',
    quantity: 7250,
    unit: 'mg',
    updatedAt: new Date('2026-03-06T09:00:00.000Z'),
  },
]
