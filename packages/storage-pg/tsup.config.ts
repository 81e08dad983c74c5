import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: { resolve: ['@peak-oms/storage-sql'] },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // the shared SQL package is private: it is bundled in, never a runtime dependency
  noExternal: ['@peak-oms/storage-sql'],
})
