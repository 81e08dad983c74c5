import { type FieldIssue, OmsError } from './oms-error'

/**
 * `CONFIGURATION`: a component (a storage adapter, a POS adapter) was set up with a missing or invalid
 * option. Thrown when it is created, before anything runs; `issues` name each bad field. Never echoes
 * connection strings, passwords or keys.
 */
export class ConfigurationError extends OmsError {
  readonly component: string
  readonly issues: readonly FieldIssue[]

  constructor(component: string, issues: readonly FieldIssue[]) {
    const list = issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ')
    super('CONFIGURATION', `invalid ${component} configuration: ${list}`, { details: { component, issues } })
    this.component = component
    this.issues = issues
  }
}
