/** One transition of a machine definition. */
export interface TransitionDefinition {
  target: string
  /** Named guards; all must pass. */
  guard?: string | readonly string[]
  /** Effect intents the service applies in the same transaction (e.g. `releaseHolds`). */
  actions?: readonly string[]
}

export interface StateDefinition {
  /** A final state takes no events. */
  type?: 'final'
  /** Event type → transition(s). With several, the first whose guards pass is taken. */
  on?: Readonly<Record<string, TransitionDefinition | readonly TransitionDefinition[]>>
  /** Why an event is refused in this state, for the error a caller sees (e.g. "use a return"). */
  hints?: Readonly<Record<string, string>>
}

/**
 * A machine as plain data: what Peak OMS builds its XState machines from, and what a host extends.
 * State names are the stored status strings.
 */
export interface MachineDefinition {
  id: string
  initial: string
  states: Readonly<Record<string, StateDefinition>>
}

/** A guard: a pure predicate over the entity's context and the event. */
export type GuardFn<C, E> = (args: { context: C; event: E }) => boolean

/**
 * What a host may add to a built-in machine. Validated when the library starts: an unknown target, an
 * unknown guard or action, or a state that cannot be reached is rejected with an error naming it.
 *
 * @example
 * ```ts
 * const extension: MachineExtension<OrderContext, OrderEvent> = {
 *   guards: { idVerified: ({ context }) => context.attributes.idVerified === true },
 *   // compliance before confirm: payment only confirms a verified order
 *   requireGuards: [{ from: 'payment_pending', event: 'payment.succeeded', guard: 'idVerified' }],
 *   states: {
 *     compliance_hold: { on: { 'compliance.clear': { target: 'confirmed' } } },
 *     payment_pending: { on: { 'compliance.flag': { target: 'compliance_hold' } } },
 *   },
 * }
 * ```
 */
export interface MachineExtension<C, E> {
  /** Guard implementations, by name. May also replace a built-in guard. */
  guards?: Readonly<Record<string, GuardFn<C, E>>>
  /** Extra guards on existing transitions, AND-ed with the built-in ones. */
  requireGuards?: ReadonlyArray<{ from: string; event: string; guard: string }>
  /**
   * New states, or extra transitions for existing states. For an event a state already handles, the
   * host's transitions are tried first.
   */
  states?: Readonly<Record<string, StateDefinition>>
  /** Extra effect intents the host's transitions may name; the service publishes them as outbox events. */
  actions?: readonly string[]
}

export const toTransitionList = (
  value: TransitionDefinition | readonly TransitionDefinition[] | undefined,
): readonly TransitionDefinition[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value as TransitionDefinition]

export const guardList = (guard: TransitionDefinition['guard']): readonly string[] =>
  guard === undefined ? [] : typeof guard === 'string' ? [guard] : guard
