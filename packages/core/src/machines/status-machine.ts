import { and, type EventObject, setup, transition } from 'xstate'
import { InvalidMachineError, InvalidTransitionError } from '../errors/oms-error'
import {
  type GuardFn,
  guardList,
  type MachineDefinition,
  type MachineExtension,
  toTransitionList,
} from './machine-definition'
import { mergeDefinition, validateDefinition } from './merge-definition'

/** The result of a legal transition: the new status and the effect intents to apply. */
export interface TransitionResult {
  from: string
  status: string
  actions: string[]
}

const intent = () => {
  // Never runs: `transition()` returns intents without executing them; the service applies them.
}

/**
 * A machine over stored status strings, built once at start-up from a (possibly extended) definition.
 * Pure: it decides, it never writes. Backed by XState v5 (`resolveState` + `transition`).
 */
export class StatusMachine<C extends object, E extends EventObject> {
  readonly id: string
  readonly definition: MachineDefinition
  /** Every status, in definition order. */
  readonly states: readonly string[]
  /** Every event type some state handles. */
  readonly events: readonly string[]
  readonly #machine
  readonly #final: ReadonlySet<string>
  /** Results of transitions no guard can change, by `status event`: computed once, then reused. */
  readonly #unguarded = new Map<string, TransitionResult>()
  readonly #guarded: ReadonlySet<string>

  constructor(
    base: MachineDefinition,
    builtIn: { guards: Readonly<Record<string, GuardFn<C, E>>>; actions: readonly string[] },
    extension: MachineExtension<C, E> = {},
  ) {
    const definition = mergeDefinition(base, extension)
    const guards: Record<string, GuardFn<C, E>> = { ...builtIn.guards, ...extension.guards }
    const actions = [...builtIn.actions, ...(extension.actions ?? [])]
    const problems = validateDefinition(definition, {
      guards: new Set(Object.keys(guards)),
      actions: new Set(actions),
    })
    if (problems.length > 0) throw new InvalidMachineError(base.id, problems)

    this.id = definition.id
    this.definition = definition
    this.states = Object.keys(definition.states)
    this.events = [...new Set(Object.values(definition.states).flatMap((s) => Object.keys(s.on ?? {})))]
    this.#final = new Set(this.states.filter((s) => definition.states[s]?.type === 'final'))
    this.#guarded = new Set(
      Object.entries(definition.states).flatMap(([name, state]) =>
        Object.entries(state.on ?? {})
          .filter(([, value]) => toTransitionList(value).some((t) => guardList(t.guard).length > 0))
          .map(([event]) => `${name} ${event}`),
      ),
    )

    const xstateStates = Object.fromEntries(
      Object.entries(definition.states).map(([name, state]) => [
        name,
        {
          ...(state.type === 'final' ? { type: 'final' as const } : {}),
          on: Object.fromEntries(
            Object.entries(state.on ?? {}).map(([event, value]) => [
              event,
              toTransitionList(value).map((t) => {
                const names = guardList(t.guard)
                return {
                  target: t.target,
                  ...(names.length === 1
                    ? { guard: names[0] }
                    : names.length > 1
                      ? { guard: and([...names]) }
                      : {}),
                  actions: [...(t.actions ?? [])],
                }
              }),
            ]),
          ),
        },
      ]),
    )
    this.#machine = setup({
      types: { context: {} as C, events: {} as E },
      // biome-ignore lint/suspicious/noExplicitAny: XState's guard map is keyed by the names validated above.
      guards: guards as any,
      actions: Object.fromEntries(actions.map((a) => [a, intent])),
      // biome-ignore lint/suspicious/noExplicitAny: the config is generated from the validated definition.
    }).createMachine({ id: definition.id, initial: definition.initial, states: xstateStates } as any)
  }

  isState(status: string): boolean {
    return Object.hasOwn(this.definition.states, status)
  }

  isFinal(status: string): boolean {
    return this.#final.has(status)
  }

  #snapshot(status: string, context: C) {
    if (!this.isState(status)) {
      throw new InvalidTransitionError(this.id, status, '(any)', {
        hint: `"${status}" is not a state of this machine`,
      })
    }
    return this.#machine.resolveState({ value: status, context })
  }

  /** Whether some transition out of `status` is guarded by `guard` (so a caller knows to compute what it reads). */
  usesGuard(status: string, guard: string): boolean {
    return Object.values(this.definition.states[status]?.on ?? {}).some((value) =>
      toTransitionList(value).some((t) => guardList(t.guard).includes(guard)),
    )
  }

  /** Whether `event` is legal now (guards included). */
  can(status: string, context: C, event: E): boolean {
    if (this.#unguarded.has(`${status} ${event.type}`)) return true
    return this.#snapshot(status, context).can(event)
  }

  /** The events legal in `status` with this context: what a UI shows as buttons. */
  allowedEvents(
    status: string,
    context: C,
    makeEvent: (type: string) => E = (type) => ({ type }) as E,
  ): string[] {
    const snapshot = this.#snapshot(status, context)
    return this.events.filter((type) => snapshot.can(makeEvent(type)))
  }

  /** The next status and effect intents, or `InvalidTransitionError` (with a hint where the definition has one). */
  transition(status: string, context: C, event: E): TransitionResult {
    const key = `${status} ${event.type}`
    const cached = this.#unguarded.get(key)
    if (cached) return { ...cached, actions: [...cached.actions] }
    const snapshot = this.#snapshot(status, context)
    if (!snapshot.can(event)) {
      const state = this.definition.states[status]
      const handled = Object.hasOwn(state?.on ?? {}, event.type)
      const hint = state?.hints?.[event.type] ?? (handled ? 'a condition for it is not met' : undefined)
      throw new InvalidTransitionError(this.id, status, event.type, {
        ...(hint ? { hint } : {}),
        allowed: this.allowedEvents(status, context),
      })
    }
    // biome-ignore lint/suspicious/noExplicitAny: snapshot and event types come from this machine.
    const [next, actions] = transition(this.#machine, snapshot as any, event as any)
    const result = {
      from: status,
      status: String(next.value),
      actions: actions.map((a) => a.type).filter((type) => !type.startsWith('xstate.')),
    }
    // Actions carry no parameters here, so with no guard involved the outcome depends on nothing else.
    if (!this.#guarded.has(key)) this.#unguarded.set(key, { ...result, actions: [...result.actions] })
    return result
  }
}
