import spec from './fixtures/pos-api.openapi.subset.json'

/** The subset of OpenAPI 3.0 schema keywords the Dutchie spec uses. */
interface Schema {
  $ref?: string
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean'
  format?: string
  nullable?: boolean
  enum?: unknown[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
  additionalProperties?: boolean | Schema
}

const components = (spec as unknown as { components: { schemas: Record<string, Schema> } }).components.schemas

/** A named component schema of the Dutchie spec. */
export const component = (name: string): Schema => {
  const schema = components[name]
  if (!schema) throw new Error(`no schema ${name}`)
  return schema
}

/** The 200 `application/json` schema of `method path`. */
export function responseSchema(method: 'get' | 'post', path: string): Schema {
  const paths = (spec as unknown as { paths: Record<string, Record<string, unknown>> }).paths
  const op = paths[path]?.[method] as
    | { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }
    | undefined
  const schema = op?.responses['200']?.content?.['application/json']?.schema
  if (!schema) throw new Error(`no 200 schema for ${method} ${path}`)
  return schema
}

/**
 * Validates `value` against a Dutchie spec schema (type, int32, date-time, uuid, nullable, enum, required,
 * `additionalProperties: false`). Returns one message per problem, with a dotted path.
 */
export function validateAgainst(schema: Schema, value: unknown, path = '$'): string[] {
  if (schema.$ref)
    return validateAgainst(component(schema.$ref.replace('#/components/schemas/', '')), value, path)
  if (value === null) return schema.nullable ? [] : [`${path}: null but not nullable`]
  if (schema.enum && !schema.enum.includes(value))
    return [`${path}: not one of ${JSON.stringify(schema.enum)}`]
  switch (schema.type) {
    case 'integer':
      return Number.isInteger(value) ? [] : [`${path}: expected integer`]
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? [] : [`${path}: expected number`]
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected boolean`]
    case 'string': {
      if (typeof value !== 'string') return [`${path}: expected string`]
      if (schema.format === 'date-time' && Number.isNaN(Date.parse(value)))
        return [`${path}: not a date-time`]
      if (schema.format === 'uuid' && !/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(value)) {
        return [`${path}: not a uuid`]
      }
      return []
    }
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected array`]
      return value.flatMap((item, index) =>
        schema.items ? validateAgainst(schema.items, item, `${path}.${index}`) : [],
      )
    default: {
      if (schema.type !== 'object' && !schema.properties) return []
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected object`]
      const record = value as Record<string, unknown>
      const errors: string[] = []
      for (const key of schema.required ?? []) if (!(key in record)) errors.push(`${path}.${key}: required`)
      for (const [key, item] of Object.entries(record)) {
        const property = schema.properties?.[key]
        if (property) errors.push(...validateAgainst(property, item, `${path}.${key}`))
        else if (schema.additionalProperties === false) errors.push(`${path}.${key}: not in the schema`)
      }
      return errors
    }
  }
}
