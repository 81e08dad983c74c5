import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'packed',
    // each test runs node or tsc in the scratch project; packing and installing happen in beforeAll
    testTimeout: 60_000,
  },
})
