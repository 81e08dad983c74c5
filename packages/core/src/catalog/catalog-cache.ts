import type { Item, Location } from '../domain/schemas'
import type { Clock } from '../ports/clock'
import type { StorageTx } from '../ports/storage'

/**
 * Items and locations change rarely and are read by every order: this keeps what was read for a short
 * time so placing an order skips two reads. Writes through this instance's services update it at once;
 * another instance's change is seen after at most `ttlSeconds`. Items are never deleted, so a cached item
 * never lets an order through for an item that does not exist.
 */
export class CatalogCache {
  readonly #ttlMs: number
  readonly #clock: Clock
  readonly #locations = new Map<string, { value: Location; until: number }>()
  readonly #items = new Map<string, { value: Item; until: number }>()

  constructor(ttlSeconds: number, clock: Clock) {
    this.#ttlMs = ttlSeconds * 1000
    this.#clock = clock
  }

  async location(tx: StorageTx, id: string): Promise<Location | null> {
    const now = this.#clock.now().getTime()
    const hit = this.#locations.get(id)
    if (hit && hit.until > now) return hit.value
    const value = await tx.locations.get(id)
    if (value && this.#ttlMs > 0) this.#locations.set(id, { value, until: now + this.#ttlMs })
    return value
  }

  async items(tx: StorageTx, ids: readonly string[]): Promise<Item[]> {
    const now = this.#clock.now().getTime()
    const found: Item[] = []
    const missing: string[] = []
    for (const id of ids) {
      const hit = this.#items.get(id)
      if (hit && hit.until > now) found.push(hit.value)
      else missing.push(id)
    }
    if (missing.length) {
      for (const value of await tx.items.getMany(missing)) {
        found.push(value)
        if (this.#ttlMs > 0) this.#items.set(value.id, { value, until: now + this.#ttlMs })
      }
    }
    return found
  }

  /** After this instance wrote an item or location. */
  forget(kind: 'item' | 'location', id: string): void {
    ;(kind === 'item' ? this.#items : this.#locations).delete(id)
  }
}
