import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // p-retry (and its is-network-error) are ESM-only: a CJS build that require()s them gets the module
  // namespace where it expects the function. Bundling them makes both builds self-contained.
  noExternal: ['p-retry', 'is-network-error'],
  banner: {
    js: '/*! Bundled: p-retry, is-network-error. MIT License, Copyright (c) Sindre Sorhus <sindresorhus@gmail.com> (https://sindresorhus.com) */',
  },
})
