import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { buildRealAdapter, PosEnvError, parsePosEnv } from '../src/pos-env'

const dir = mkdtempSync(join(tmpdir(), 'peak-oms-env-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function failure(env: Record<string, string>): PosEnvError {
  try {
    parsePosEnv(env)
  } catch (error) {
    if (error instanceof PosEnvError) return error
    throw error
  }
  throw new Error('expected a PosEnvError')
}

describe('sync-worker POS environment', () => {
  test('no PEAK_OMS_POS (or fake) runs the fakes', () => {
    expect(parsePosEnv({})).toEqual({ mode: 'fake' })
    expect(parsePosEnv({ PEAK_OMS_POS: 'fake', DUTCHIE_LOCATION_KEY: 'x' })).toEqual({ mode: 'fake' })
  })

  test('an unknown POS is refused by name', () => {
    const error = failure({ PEAK_OMS_POS: 'square' })
    expect(error.variables).toEqual(['PEAK_OMS_POS'])
  })

  test('missing variables are named, and no value ever appears in the message', () => {
    const secret = 'pk_live_very_secret_value'
    const error = failure({ PEAK_OMS_POS: 'blaze', BLAZE_PARTNER_KEY: secret, BLAZE_BASE_URL: 'not a url' })
    expect(error.variables.sort()).toEqual(['BLAZE_BASE_URL', 'BLAZE_DEVELOPER_KEY'])
    expect(error.message).toContain('BLAZE_DEVELOPER_KEY is not set')
    expect(error.message).not.toContain(secret)
    expect(error.message).not.toContain('not a url')
    const treez = failure({ PEAK_OMS_POS: 'Treez', TREEZ_CERTIFICATE_ID: 'cert-secret' })
    expect(treez.variables.sort()).toEqual([
      'TREEZ_DISPENSARY',
      'TREEZ_ORGANIZATION_ID',
      'TREEZ_PRIVATE_KEY_FILE',
    ])
    expect(treez.message).not.toContain('cert-secret')
    expect(failure({ PEAK_OMS_POS: 'dutchie', DUTCHIE_LOCATION_KEY: '  ' }).variables).toEqual([
      'DUTCHIE_LOCATION_KEY',
    ])
  })

  test('a complete configuration builds the real adapter, without any request', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString()
    const keyFile = join(dir, 'treez.pem')
    writeFileSync(keyFile, pem)
    const treez = parsePosEnv({
      PEAK_OMS_POS: 'treez',
      TREEZ_PRIVATE_KEY_FILE: keyFile,
      TREEZ_CERTIFICATE_ID: 'cert',
      TREEZ_ORGANIZATION_ID: 'org',
      TREEZ_DISPENSARY: 'partnersandbox3',
      TREEZ_SELLABLE_LOCATIONS: 'FRONT OF HOUSE, DISPLAY CASE 1',
    })
    expect(treez).toMatchObject({
      mode: 'real',
      pos: 'treez',
      env: { TREEZ_SELLABLE_LOCATIONS: ['FRONT OF HOUSE', 'DISPLAY CASE 1'] },
    })
    const configs = [
      treez,
      parsePosEnv({
        PEAK_OMS_POS: 'dutchie',
        DUTCHIE_LOCATION_KEY: 'lk',
        DUTCHIE_CONSUMER_KEY: '3f2b9c1e-8d4a-4f7e-9b6c-2a1d0e5f7c3b',
      }),
      parsePosEnv({ PEAK_OMS_POS: 'blaze', BLAZE_PARTNER_KEY: 'pk', BLAZE_DEVELOPER_KEY: 'dk' }),
    ]
    for (const config of configs) {
      if (config.mode !== 'real') throw new Error('expected a real POS')
      const adapter = buildRealAdapter(config)
      expect(adapter.vendor).toBe(config.pos)
      expect(typeof adapter.pullSales).toBe('function')
    }
  })

  test('a value the adapter refuses names its variable, not the value', () => {
    const config = parsePosEnv({
      PEAK_OMS_POS: 'dutchie',
      DUTCHIE_LOCATION_KEY: 'lk',
      DUTCHIE_CONSUMER_KEY: 'ck-secret',
    })
    if (config.mode !== 'real') throw new Error('expected a real POS')
    let error: unknown
    try {
      buildRealAdapter(config)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(PosEnvError)
    expect((error as PosEnvError).variables).toEqual(['DUTCHIE_CONSUMER_KEY'])
    expect((error as Error).message).not.toContain('ck-secret')
  })
})

describe('sync-worker entry point', () => {
  test('a real POS with variables missing exits 1 naming them, before any fake or database', async () => {
    const { spawnSync } = await import('node:child_process')
    const dbFile = join(dir, 'never.db')
    const run = spawnSync(
      process.execPath,
      ['--conditions=@peak-oms/source', '--import', 'tsx', 'src/main.ts'],
      {
        cwd: join(import.meta.dirname, '..'),
        env: {
          PATH: process.env.PATH,
          PEAK_OMS_POS: 'blaze',
          BLAZE_PARTNER_KEY: 'pk-secret',
          PEAK_OMS_DEMO_DB: dbFile,
        },
        encoding: 'utf8',
      },
    )
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('BLAZE_DEVELOPER_KEY is not set')
    expect(run.stderr).not.toContain('pk-secret')
    expect(run.stdout).not.toContain('fake')
    const { existsSync } = await import('node:fs')
    expect(existsSync(dbFile)).toBe(false)
  })
})
