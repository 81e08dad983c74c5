import type { Clock } from '../ports/clock'

/** A clock tests move by hand. */
export interface FakeClock extends Clock {
  advance(ms: number): Date
  set(date: Date): void
}

export function createFakeClock(start: Date = new Date('2026-11-22T12:00:00.000Z')): FakeClock {
  let now = start.getTime()
  return {
    now: () => new Date(now),
    advance(ms) {
      now += ms
      return new Date(now)
    },
    set(date) {
      now = date.getTime()
    },
  }
}
