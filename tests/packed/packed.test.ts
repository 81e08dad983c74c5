import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { buildStalePackages, createPackedProject, type PackedProject, type RunResult } from './packed-project'

/**
 * The packages as published: packed with `pnpm pack`, installed from the tarballs into a project outside
 * the workspace, and used from plain `node` through `import` and through `require`.
 */

const RECEIVED = 5
const ORDERED = 2

/** What `consumer/scenario.cjs` must report, whichever module system loaded the packages. */
const expectedSmoke = (format: 'esm' | 'cjs') => ({
  format,
  exports: { createPgStorage: 'function', runStorageConformanceOnPlainTesting: false },
  sqlite: {
    order: {
      status: 'payment_pending',
      // the order is stamped by the fake clock from @peak-oms/core/testing
      createdAt: '2030-03-04T10:00:00.000Z',
      lines: [{ itemId: 'gummies', quantity: ORDERED }],
    },
    level: { onHand: RECEIVED, reserved: ORDERED, available: RECEIVED - ORDERED },
    // a second order for more than is left is refused with the typed error
    secondOrder: 'INSUFFICIENT_STOCK',
  },
  // every adapter, pointed at a port nothing listens on, gives up with the typed error
  pos: { treez: 'POS_UNAVAILABLE', dutchie: 'POS_UNAVAILABLE', blaze: 'POS_UNAVAILABLE' },
})

function smokeReport(result: RunResult): unknown {
  const line = result.stdout.split('\n').find((l) => l.startsWith('SMOKE '))
  if (!line) throw new Error(`no SMOKE line (exit ${result.code})\n${result.stdout}\n${result.stderr}`)
  return JSON.parse(line.slice('SMOKE '.length))
}

describe('published packages', () => {
  let project: PackedProject
  // tsc takes longest: it starts as soon as the project is installed and runs alongside the smoke scripts
  let typecheck: Promise<RunResult>

  beforeAll(async () => {
    const built = await buildStalePackages()
    if (built.length > 0)
      console.info(`packed smoke test: built ${built.join(', ')} (dist was missing or stale)`)
    project = await createPackedProject()
    typecheck = project.typecheck()
    // a spawn failure is reported by the typecheck test, not as an unhandled rejection before it
    typecheck.catch(() => undefined)
  }, 600_000)

  afterAll(() => project?.remove())

  test('install from their tarballs without vitest or fast-check', () => {
    const installed = readdirSync(join(project.dir, 'node_modules', '.pnpm'))
    expect(installed.filter((id) => /^(vitest|fast-check)@/.test(id))).toEqual([])
    expect(existsSync(join(project.dir, 'node_modules', '@peak-oms', 'core', 'dist', 'testing.js'))).toBe(
      true,
    )
    // the private SQL package is bundled into the adapters, never a dependency
    expect(installed.filter((id) => id.includes('storage-sql@'))).toEqual([])
  })

  test('run from an ES module: an order on SQLite, and POS_UNAVAILABLE from every POS adapter', async () => {
    const result = await project.node(['smoke.mjs'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(smokeReport(result)).toEqual(expectedSmoke('esm'))
  })

  test('run from a CommonJS script: an order on SQLite, and POS_UNAVAILABLE from every POS adapter', async () => {
    const result = await project.node(['smoke.cjs'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(smokeReport(result)).toEqual(expectedSmoke('cjs'))
  })

  test('CommonJS builds never require() an ES module (they work without require(esm))', async () => {
    const result = await project.node(['--no-experimental-require-module', 'smoke.cjs'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(smokeReport(result)).toEqual(expectedSmoke('cjs'))
  })

  test('published types check from ESM and CJS (nodenext, skipLibCheck off) with only the packages, their peers and @types/node', async () => {
    const result = await typecheck
    expect(`${result.stdout}${result.stderr}`).toBe('')
    expect(result.code).toBe(0)
  })
})
