import { ConfigurationError, type FieldIssue } from '@peak-oms/core'

/**
 * Collects the problems of an adapter's configuration and throws one `ConfigurationError` naming every bad
 * field. Messages never repeat a value that may hold a secret (connection strings).
 */
export class ConfigChecks {
  readonly #issues: FieldIssue[] = []

  constructor(readonly component: string) {}

  fail(path: string, message: string): void {
    this.#issues.push({ path, message })
  }

  /** A whole number ≥ `min`, when given. */
  integer(path: string, value: unknown, min: number, unit = ''): void {
    if (value === undefined) return
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      this.fail(path, `must be a whole number${unit}, ${min} or more (got ${describe(value)})`)
    }
  }

  /** A function, when given. */
  callback(path: string, value: unknown): void {
    if (value !== undefined && typeof value !== 'function') {
      this.fail(path, `must be a function (got ${describe(value)})`)
    }
  }

  /** An object (or absent). */
  object(path: string, value: unknown): value is Record<string, unknown> | undefined {
    if (value === undefined) return true
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return true
    this.fail(path, `must be an object (got ${describe(value)})`)
    return false
  }

  /** Throws when anything failed. */
  done(): void {
    if (this.#issues.length > 0) throw new ConfigurationError(this.component, this.#issues)
  }
}

/** The kind of a bad value, never the value itself (it may be a secret). */
const describe = (value: unknown): string => {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return String(value)
  return typeof value
}

/** Whether `value` has every named method. */
export const hasMethods = (value: unknown, ...names: string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
