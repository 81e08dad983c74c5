import {
  decimalToMinor,
  type PosOrderLineInput,
  type PosOrderRef,
  type PosOrderStatus,
  type PosProduct,
  type PosStockLevel,
  type PosUnit,
} from '@peak-oms/core'
import { type BlazeCartStatus, type BlazeConsumerCart, type BlazeProduct, isWeighed } from './blaze-schemas'

/** The unit core counts a BLAZE product in: weighed (`grams`) products in whole milligrams, the rest each. */
export function blazeUnit(product: Pick<BlazeProduct, 'category'>): PosUnit {
  return isWeighed(product.category?.unitType) ? 'mg' : 'each'
}

/** Maps a BLAZE product to core's `PosProduct` (unit price dollars to cents). */
export function mapBlazeProduct(product: BlazeProduct, currency: string): PosProduct {
  const hasPotency = typeof product.thc === 'number' || typeof product.cbd === 'number'
  return {
    externalId: product.id,
    sku: product.sku ? product.sku : null,
    name: product.name,
    category: product.category?.name ?? null,
    unit: blazeUnit(product),
    priceMinor: typeof product.unitPrice === 'number' ? decimalToMinor(product.unitPrice) : null,
    currency,
    active: product.active !== false && product.deleted !== true,
    cannabis: {
      thc: product.thc ?? null,
      cbd: product.cbd ?? null,
      potencyUnit: hasPotency ? '%' : null,
      strain: product.flowerType ? product.flowerType : null,
      netWeightMg: null,
    },
    updatedAt:
      typeof product.modified === 'number' && product.modified > 0 ? new Date(product.modified) : null,
  }
}

/** A BLAZE quantity in core's unit: grams to whole milligrams, counted units as they are. */
export function toUnitQuantity(quantity: number, unit: PosUnit): number {
  // Negative on-hand (an oversold inventory) is reported as nothing sellable.
  const clamped = Math.max(0, quantity)
  return unit === 'mg' ? Math.round(clamped * 1000) : clamped
}

/** Where stock levels come from and which locations they are reported under. */
export interface StockMappingOptions {
  quantitySource: 'quantities' | 'sellableQuantities'
  /** inventoryId → reported location id; when set, only these inventories, zero-filled. */
  locations: Record<string, string> | undefined
}

/** The stock levels of one product, one per inventory (`externalLocationId` = inventoryId or its mapping). */
export function mapBlazeStockLevels(product: BlazeProduct, options: StockMappingOptions): PosStockLevel[] {
  const unit = blazeUnit(product)
  const byInventory = new Map<string, number>()
  if (options.quantitySource === 'sellableQuantities') {
    for (const [inventoryId, quantity] of Object.entries(product.sellableQuantities ?? {})) {
      byInventory.set(inventoryId, (byInventory.get(inventoryId) ?? 0) + quantity)
    }
  } else {
    for (const entry of product.quantities ?? []) {
      byInventory.set(entry.inventoryId, (byInventory.get(entry.inventoryId) ?? 0) + entry.quantity)
    }
  }
  const updatedAt =
    typeof product.modified === 'number' && product.modified > 0 ? new Date(product.modified) : null
  const level = (inventoryId: string, locationId: string): PosStockLevel => ({
    externalProductId: product.id,
    externalLocationId: locationId,
    quantity: toUnitQuantity(byInventory.get(inventoryId) ?? 0, unit),
    unit,
    updatedAt,
  })
  if (options.locations) {
    return Object.entries(options.locations).map(([inventoryId, locationId]) =>
      level(inventoryId, locationId),
    )
  }
  return [...byInventory.keys()].map((inventoryId) => level(inventoryId, inventoryId))
}

const TERMINAL: Record<string, PosOrderStatus> = {
  Completed: 'completed',
  Declined: 'rejected',
  CanceledByConsumer: 'cancelled',
  CanceledByDispensary: 'cancelled',
}

/**
 * Our reading of a cart's status. `InProgress` (an open cart, not yet placed) and `Placed` both read as
 * `submitted`; on a placed or accepted cart the `onTheWay`, `packaged` and `completed` flags refine it.
 */
export function mapBlazeCartStatus(
  cart: Pick<BlazeConsumerCart, 'cartStatus' | 'packaged' | 'onTheWay' | 'completed'>,
): PosOrderStatus {
  const status: BlazeCartStatus = cart.cartStatus
  const terminal = TERMINAL[status]
  if (terminal) return terminal
  if (status === 'InProgress') return 'submitted'
  if (cart.completed) return 'completed'
  if (cart.onTheWay) return 'out_for_delivery'
  if (cart.packaged) return 'ready'
  return status === 'Accepted' ? 'accepted' : 'submitted'
}

/** True once the cart is an order: submitted (`Placed`) or any later status. */
export function isPlaced(cart: Pick<BlazeConsumerCart, 'cartStatus'>): boolean {
  return cart.cartStatus !== 'InProgress'
}

/** The `PosOrderRef` of a cart. */
export function toBlazeOrderRef(cart: BlazeConsumerCart): PosOrderRef {
  const orderNo = cart.orderNo
  return {
    externalId: cart.id,
    externalNumber: orderNo === null || orderNo === undefined || orderNo === '' ? null : String(orderNo),
    status: mapBlazeCartStatus(cart),
    raw: cart.cartStatus,
  }
}

/** The memo written on our carts: `Peak OMS <order number>`, then the order notes if any. */
export function blazeMemo(orderNumber: string, notes: string | null): string {
  return notes ? `Peak OMS ${orderNumber}: ${notes}` : `Peak OMS ${orderNumber}`
}

/**
 * True when the cart carries our order number: in `externalId`, or as a whole word of `memo` (so that
 * `ORD-1` never matches `ORD-10`).
 */
export function cartMatchesOrderNumber(
  cart: Pick<BlazeConsumerCart, 'externalId' | 'memo'>,
  orderNumber: string,
): boolean {
  if (cart.externalId === orderNumber) return true
  if (!cart.memo) return false
  return cart.memo.split(/[\s:;,()[\]]+/).includes(orderNumber)
}

/** A cart line as BLAZE takes it. Milligram quantities go back to grams. */
export interface BlazeCartItemInput {
  productId: string
  quantity: number
}

/** Our order lines as BLAZE cart items; `unitOf` says which products are weighed (default each). */
export function toBlazeCartItems(
  lines: readonly PosOrderLineInput[],
  unitOf: (productId: string) => PosUnit | undefined,
): BlazeCartItemInput[] {
  return lines.map((line) => {
    const unit = unitOf(line.externalProductId) ?? 'each'
    return {
      productId: line.externalProductId,
      quantity: unit === 'mg' ? line.quantity / 1000 : line.quantity,
    }
  })
}
