'use strict'
// Loads every published package through `require` (their CJS builds), then runs the shared scenario.
const core = require('@peak-oms/core')
const testing = require('@peak-oms/core/testing')
const blaze = require('@peak-oms/pos-blaze')
const dutchie = require('@peak-oms/pos-dutchie')
const treez = require('@peak-oms/pos-treez')
const pg = require('@peak-oms/storage-pg')
const sqlite = require('@peak-oms/storage-sqlite')
const { runSmoke } = require('./scenario.cjs')

const resolved = [
  '@peak-oms/core',
  '@peak-oms/core/testing',
  '@peak-oms/pos-treez',
  '@peak-oms/storage-sqlite',
].map((name) => require.resolve(name))
if (!resolved.every((file) => file.endsWith('.cjs')))
  throw new Error(`expected the CJS builds, got ${resolved}`)
runSmoke({ core, testing, sqlite, pg, treez, dutchie, blaze }, 'cjs').catch((error) => {
  console.error(error)
  process.exitCode = 1
})
