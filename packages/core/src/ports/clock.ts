/** Where Peak OMS reads the time. Tests pass a controllable clock (`createFakeClock` in `@peak-oms/core/testing`). */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }
