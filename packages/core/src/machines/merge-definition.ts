import {
  guardList,
  type MachineDefinition,
  type MachineExtension,
  type StateDefinition,
  type TransitionDefinition,
  toTransitionList,
} from './machine-definition'

/** Merges a host extension into a built-in definition (no validation: see `validateDefinition`). */
export function mergeDefinition<C, E>(
  base: MachineDefinition,
  extension: MachineExtension<C, E> = {},
): MachineDefinition {
  const states: Record<string, StateDefinition> = {}
  for (const [name, state] of Object.entries(base.states)) states[name] = state
  for (const [name, added] of Object.entries(extension.states ?? {})) {
    const existing = states[name]
    if (!existing) {
      states[name] = added
      continue
    }
    const on: Record<string, readonly TransitionDefinition[]> = {}
    for (const [event, t] of Object.entries(existing.on ?? {})) on[event] = toTransitionList(t)
    for (const [event, t] of Object.entries(added.on ?? {}))
      on[event] = [...toTransitionList(t), ...(on[event] ?? [])]
    states[name] = {
      ...existing,
      ...(added.type ? { type: added.type } : {}),
      on,
      hints: { ...existing.hints, ...added.hints },
    }
  }
  for (const { from, event, guard } of extension.requireGuards ?? []) {
    const state = states[from]
    const list = toTransitionList(state?.on?.[event])
    if (!state || list.length === 0) {
      // Left for validation to report with the other problems.
      states[from] = {
        ...(state ?? {}),
        on: { ...(state?.on ?? {}), [event]: [{ target: `<no transition ${from} --${event}--> to guard>` }] },
      }
      continue
    }
    states[from] = {
      ...state,
      on: {
        ...state.on,
        [event]: list.map((t) => ({ ...t, guard: [...guardList(t.guard), guard] })),
      },
    }
  }
  return { ...base, states }
}

/**
 * Every problem with a definition: unknown initial state, unknown targets, unknown guards or actions,
 * transitions out of a final state, and states that cannot be reached from the initial one.
 */
export function validateDefinition(
  definition: MachineDefinition,
  known: { guards: ReadonlySet<string>; actions: ReadonlySet<string> },
): string[] {
  const problems: string[] = []
  const names = new Set(Object.keys(definition.states))
  if (!names.has(definition.initial)) problems.push(`initial state "${definition.initial}" is not defined`)
  for (const [name, state] of Object.entries(definition.states)) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) problems.push(`state "${name}" must be snake_case`)
    const events = Object.entries(state.on ?? {})
    if (state.type === 'final' && events.length > 0) {
      problems.push(
        `final state "${name}" must not have transitions (it has ${events.map(([e]) => e).join(', ')})`,
      )
    }
    for (const [event, value] of events) {
      for (const t of toTransitionList(value)) {
        if (!names.has(t.target))
          problems.push(`state "${name}" on "${event}" targets unknown state "${t.target}"`)
        for (const g of guardList(t.guard)) {
          if (!known.guards.has(g)) problems.push(`state "${name}" on "${event}" uses unknown guard "${g}"`)
        }
        for (const a of t.actions ?? []) {
          if (!known.actions.has(a)) problems.push(`state "${name}" on "${event}" uses unknown action "${a}"`)
        }
      }
    }
  }
  const reached = new Set<string>()
  const queue = names.has(definition.initial) ? [definition.initial] : []
  while (queue.length > 0) {
    const name = queue.shift() as string
    if (reached.has(name)) continue
    reached.add(name)
    for (const value of Object.values(definition.states[name]?.on ?? {})) {
      for (const t of toTransitionList(value))
        if (names.has(t.target) && !reached.has(t.target)) queue.push(t.target)
    }
  }
  for (const name of names) {
    if (!reached.has(name)) problems.push(`state "${name}" is unreachable from "${definition.initial}"`)
  }
  return problems
}
