import type { z } from 'zod'
import { type FieldIssue, ValidationError } from '../errors/oms-error'

const joinPath = (path: readonly PropertyKey[]) => path.map(String).join('.')

/**
 * Flattens zod issues into one issue per bad field (the first complaint about it); an unknown key is
 * named as its own path.
 */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  const byPath = new Map<string, FieldIssue>()
  const add = (path: string, message: string) => {
    if (!byPath.has(path)) byPath.set(path, { path, message })
  }
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add(joinPath([...issue.path, key]), 'is not a known field')
    } else {
      add(joinPath(issue.path), issue.message)
    }
  }
  return [...byPath.values()]
}

/**
 * Parses untrusted input at a public entry point. Throws `ValidationError` (code `VALIDATION`) naming
 * every bad field; the zod error is kept as `cause`.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  throw new ValidationError(what, toFieldIssues(result.error), { cause: result.error })
}
