import { defineProject } from 'vitest/config'
import { sharedTimeouts } from '../../vitest.shared'

export default defineProject({
  test: {
    ...sharedTimeouts,
    name: 'packed',
  },
})
