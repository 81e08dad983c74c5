import { readFileSync } from 'node:fs'
import { type PosAdapter, ValidationError } from '@peak-oms/core'
import { createBlazeAdapter } from '@peak-oms/pos-blaze'
import { createDutchieAdapter } from '@peak-oms/pos-dutchie'
import { createTreezAdapter } from '@peak-oms/pos-treez'
import { z } from 'zod'

/** The environment, as `process.env` gives it. */
export type Env = Readonly<Record<string, string | undefined>>

const required = z.string().trim().min(1)
const optional = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value ? value : undefined))
const url = z.url({ protocol: /^https?$/ }).optional()
const list = optional.transform((value) =>
  value
    ? value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
    : undefined,
)

const treezEnv = z.object({
  TREEZ_CERTIFICATE_ID: required,
  TREEZ_ORGANIZATION_ID: required,
  TREEZ_DISPENSARY: required,
  /** A path to the PEM file, or the PEM itself in TREEZ_PRIVATE_KEY (one of the two). */
  TREEZ_PRIVATE_KEY_FILE: optional,
  TREEZ_PRIVATE_KEY: optional,
  TREEZ_SELLABLE_LOCATIONS: list,
  TREEZ_REVENUE_SOURCE: optional,
  TREEZ_BASE_URL: url,
})

const dutchieEnv = z.object({
  DUTCHIE_LOCATION_KEY: required,
  DUTCHIE_INTEGRATOR_KEY: optional,
  DUTCHIE_CONSUMER_KEY: optional,
  DUTCHIE_BASE_URL: url,
})

const blazeEnv = z.object({
  BLAZE_PARTNER_KEY: required,
  BLAZE_DEVELOPER_KEY: required,
  BLAZE_KIOSK_CUID: optional,
  BLAZE_BASE_URL: url,
})

const modeEnv = z.object({
  PEAK_OMS_POS: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value ? value.toLowerCase() : 'fake'))
    .pipe(z.enum(['fake', 'treez', 'dutchie', 'blaze'])),
})

export type PosEnv =
  | { mode: 'fake' }
  | { mode: 'real'; pos: 'treez'; env: z.output<typeof treezEnv> }
  | { mode: 'real'; pos: 'dutchie'; env: z.output<typeof dutchieEnv> }
  | { mode: 'real'; pos: 'blaze'; env: z.output<typeof blazeEnv> }

/**
 * A configuration problem: names the variables that are missing or wrong, never their values (they are
 * credentials).
 */
export class PosEnvError extends Error {
  constructor(
    readonly variables: string[],
    details: string[],
  ) {
    super(`sync-worker: bad POS configuration: ${details.join('; ')}`)
    this.name = 'PosEnvError'
  }
}

function parse<T extends z.ZodType>(
  schema: T,
  env: Env,
  extra: Array<{ name: string; text: string }> = [],
): z.output<T> {
  const result = schema.safeParse(env)
  if (result.success && extra.length === 0) return result.data
  const issues = (result.success ? [] : result.error.issues).map((issue) => {
    const name = String(issue.path[0] ?? '')
    const missing = env[name] === undefined || env[name]?.trim() === ''
    // zod's messages describe the rule, never the value.
    return { name, text: missing ? `${name} is not set` : `${name}: ${issue.message}` }
  })
  issues.push(...extra)
  throw new PosEnvError(
    [...new Set(issues.map((i) => i.name))],
    issues.map((i) => i.text),
  )
}

/**
 * Reads which POS to run against. `PEAK_OMS_POS` unset (or `fake`): the bundled fakes. `treez`, `dutchie` or
 * `blaze`: that POS's real API, configured by its variables (see the README).
 */
export function parsePosEnv(env: Env): PosEnv {
  const { PEAK_OMS_POS: pos } = parse(modeEnv, env)
  switch (pos) {
    case 'fake':
      return { mode: 'fake' }
    case 'treez':
      return {
        mode: 'real',
        pos,
        env: parse(
          treezEnv,
          env,
          env.TREEZ_PRIVATE_KEY_FILE?.trim() || env.TREEZ_PRIVATE_KEY?.trim()
            ? []
            : [
                {
                  name: 'TREEZ_PRIVATE_KEY_FILE',
                  text: 'TREEZ_PRIVATE_KEY_FILE (or TREEZ_PRIVATE_KEY) is not set',
                },
              ],
        ),
      }
    case 'dutchie':
      return { mode: 'real', pos, env: parse(dutchieEnv, env) }
    case 'blaze':
      return { mode: 'real', pos, env: parse(blazeEnv, env) }
  }
}

/** The variable behind each adapter config field, to name it when the adapter refuses a value. */
const VARIABLE_OF: Record<string, string> = {
  privateKey: 'TREEZ_PRIVATE_KEY_FILE',
  certificateId: 'TREEZ_CERTIFICATE_ID',
  organizationId: 'TREEZ_ORGANIZATION_ID',
  dispensary: 'TREEZ_DISPENSARY',
  sellableLocations: 'TREEZ_SELLABLE_LOCATIONS',
  revenueSource: 'TREEZ_REVENUE_SOURCE',
  locationKey: 'DUTCHIE_LOCATION_KEY',
  integratorKey: 'DUTCHIE_INTEGRATOR_KEY',
  consumerKey: 'DUTCHIE_CONSUMER_KEY',
  partnerKey: 'BLAZE_PARTNER_KEY',
  developerKey: 'BLAZE_DEVELOPER_KEY',
  cuid: 'BLAZE_KIOSK_CUID',
}

/**
 * Builds the real adapter for a parsed configuration (no request is made here). A value the adapter
 * refuses (e.g. a Dutchie consumer key that is not a GUID) is a `PosEnvError` naming the variable.
 */
export function buildRealAdapter(config: Exclude<PosEnv, { mode: 'fake' }>): PosAdapter {
  try {
    return createAdapter(config)
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    const issues = error.issues.map((issue) => {
      const field = issue.path.split('.')[0] ?? ''
      const name = VARIABLE_OF[field] ?? `${config.pos.toUpperCase()}_BASE_URL`
      return { name, text: `${name}: ${issue.message}` }
    })
    throw new PosEnvError(
      [...new Set(issues.map((i) => i.name))],
      issues.map((i) => i.text),
    )
  }
}

function createAdapter(config: Exclude<PosEnv, { mode: 'fake' }>): PosAdapter {
  switch (config.pos) {
    case 'treez': {
      const e = config.env
      return createTreezAdapter({
        privateKey: e.TREEZ_PRIVATE_KEY ?? readFileSync(e.TREEZ_PRIVATE_KEY_FILE as string, 'utf8'),
        certificateId: e.TREEZ_CERTIFICATE_ID,
        organizationId: e.TREEZ_ORGANIZATION_ID,
        dispensary: e.TREEZ_DISPENSARY,
        ...(e.TREEZ_SELLABLE_LOCATIONS ? { sellableLocations: e.TREEZ_SELLABLE_LOCATIONS } : {}),
        ...(e.TREEZ_REVENUE_SOURCE ? { revenueSource: e.TREEZ_REVENUE_SOURCE } : {}),
        ...(e.TREEZ_BASE_URL ? { baseUrl: e.TREEZ_BASE_URL } : {}),
      })
    }
    case 'dutchie': {
      const e = config.env
      return createDutchieAdapter({
        locationKey: e.DUTCHIE_LOCATION_KEY,
        ...(e.DUTCHIE_INTEGRATOR_KEY ? { integratorKey: e.DUTCHIE_INTEGRATOR_KEY } : {}),
        ...(e.DUTCHIE_CONSUMER_KEY ? { consumerKey: e.DUTCHIE_CONSUMER_KEY } : {}),
        ...(e.DUTCHIE_BASE_URL ? { baseUrl: e.DUTCHIE_BASE_URL } : {}),
      })
    }
    case 'blaze': {
      const e = config.env
      return createBlazeAdapter({
        partnerKey: e.BLAZE_PARTNER_KEY,
        developerKey: e.BLAZE_DEVELOPER_KEY,
        ...(e.BLAZE_KIOSK_CUID ? { cuid: e.BLAZE_KIOSK_CUID } : {}),
        ...(e.BLAZE_BASE_URL ? { baseUrl: e.BLAZE_BASE_URL } : {}),
      })
    }
  }
}
