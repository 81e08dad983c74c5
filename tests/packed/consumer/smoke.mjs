// Loads every published package through `import` (their ESM builds), then runs the shared scenario.
import * as core from '@peak-oms/core'
import * as testing from '@peak-oms/core/testing'
import * as blaze from '@peak-oms/pos-blaze'
import * as dutchie from '@peak-oms/pos-dutchie'
import * as treez from '@peak-oms/pos-treez'
import * as pg from '@peak-oms/storage-pg'
import * as sqlite from '@peak-oms/storage-sqlite'
import scenario from './scenario.cjs'

const resolved = [
  '@peak-oms/core',
  '@peak-oms/core/testing',
  '@peak-oms/pos-treez',
  '@peak-oms/storage-sqlite',
].map((name) => import.meta.resolve(name))
if (!resolved.every((url) => url.endsWith('.js'))) throw new Error(`expected the ESM builds, got ${resolved}`)
await scenario.runSmoke({ core, testing, sqlite, pg, treez, dutchie, blaze }, 'esm')
