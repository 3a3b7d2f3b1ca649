export class DomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A command that the stream's current state does not allow. Carries the command's type only,
 * never its data, so that logging the error cannot leak personal data.
 */
export class IllegalTransition extends DomainError {
  constructor(
    readonly aggregateId: string,
    readonly status: string,
    readonly command: string,
  ) {
    super(`${aggregateId} is ${status}: ${command} is not allowed`);
  }
}

export type ValidationIssue = { readonly field: string; readonly reason: string };

/** One or more fields of a command are invalid; `field` and `reason` describe the first. */
export class DomainValidationError extends DomainError {
  readonly field: string;
  readonly reason: string;

  constructor(readonly issues: readonly [ValidationIssue, ...ValidationIssue[]]) {
    super(issues.map(({ field, reason }) => `${field} ${reason}`).join('; '));
    this.field = issues[0].field;
    this.reason = issues[0].reason;
  }
}
