// chatctl's own failures, apart from gRPC ones: each with a stable code and the exit status it maps to.

/** The command line was wrong (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
}

/** A command that needs a session ran without one (exit 1). */
export class NotLoggedInError extends Error {
  override readonly name = 'NotLoggedInError';
  readonly code = 'NOT_LOGGED_IN';
  constructor() {
    super('not logged in: run `chatctl login <username>` first');
  }
}

/** The user's answers did not allow the command to go on (exit 1). */
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
  readonly code = 'COMMAND_FAILED';
}
