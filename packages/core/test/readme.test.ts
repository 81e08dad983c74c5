import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, test, vi } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const readme = readFileSync(join(here, '../../../README.md'), 'utf8')
const tmp = join(here, '.readme-example')

afterAll(() => rmSync(tmp, { recursive: true, force: true }))

test('the README usage example runs as written and prints what its comments say', async () => {
  const block = readme.split('<!-- usage-example')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1]
  expect(block).toBeTruthy()
  mkdirSync(tmp, { recursive: true })
  const file = join(tmp, 'example.ts')
  writeFileSync(file, block as string)
  const printed: string[] = []
  const spy = vi
    .spyOn(console, 'log')
    .mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')))
  try {
    await import(/* @vite-ignore */ file)
  } finally {
    spy.mockRestore()
  }
  expect(printed).toHaveLength(2)
  expect(printed[0]).toMatch(/^ORD-\d{8}-0001 payment_pending$/)
  expect(printed[1]).toBe('10 2 8')
})
