import { createOms, type Actor } from '@peak-oms/core'
import { openSqlite } from './backends'
const actor: Actor = { id: 'bench', roles: ['system'] }
const b = await openSqlite()
const oms = createOms({ storage: b.storage })
await oms.inventory.defineLocation({ actor, location: { id: 'l', storeId: 's', name: 'Floor', kind: 'sales_floor' } })
for (let i = 0; i < 100; i++) {
  await oms.inventory.defineItem({ actor, item: { id: `i${i}`, sku: `I${i}`, name: 'x', unit: 'each' } })
  await oms.inventory.receive({ actor, itemId: `i${i}`, locationId: 'l', quantity: 1e9 })
}
const t0 = performance.now()
for (let i = 0; i < 3000; i++) {
  await oms.orders.create({ actor, channel: 'kiosk', flow: 'pickup', storeId: 's', locationId: 'l', currency: 'USD', lines: [{ itemId: `i${i % 100}`, quantity: 1, unitPriceMinor: 1000 }] })
}
console.log('orders/s', 3000 / ((performance.now() - t0) / 1000))
await b.close()
