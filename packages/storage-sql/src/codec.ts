/** How values cross between core's types and each backend's columns. */
export interface Codec {
  ts(date: Date): Date | number
  ts(date: Date | null): Date | number | null
  bool(value: boolean): boolean | number
}

export const pgCodec: Codec = {
  ts: ((d: Date | null) => d) as Codec['ts'],
  bool: (v) => v,
}

export const sqliteCodec: Codec = {
  ts: ((d: Date | null) => (d === null ? null : d.getTime())) as Codec['ts'],
  bool: (v) => (v ? 1 : 0),
}

export const readTs = (v: Date | number | string | null): Date =>
  v instanceof Date ? v : new Date(Number(v))
export const readTsOrNull = (v: Date | number | string | null): Date | null => (v === null ? null : readTs(v))
export const readJson = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T))
export const readBool = (v: boolean | number): boolean => v === true || v === 1
export const writeJson = (v: unknown): string => JSON.stringify(v)
