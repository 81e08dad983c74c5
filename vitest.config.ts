import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'tests/*'],
    // Many test files wait on PostgreSQL or on child processes rather than the CPU: one worker more than
    // the two cores of the CI machine keeps both busy.
    maxWorkers: 3,
  },
})
