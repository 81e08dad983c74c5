import { createMemoryStorage } from '@peak-oms/core'
import { runKioskScenario } from './kiosk-scenario'

const storage = createMemoryStorage()
console.log('Peak OMS kiosk demo (in-memory storage)\n')
const result = await runKioskScenario(storage, (line) => console.log(`• ${line}`))
console.log('\nTimeline (from the audit history)')
for (const line of result.timeline) console.log(`  ${line}`)
console.log('\nFinal levels')
for (const line of result.levels) console.log(`  ${line}`)
