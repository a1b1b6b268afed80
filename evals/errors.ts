/**
 * An error the user can fix: bad input, a missing file, an unsupported model.
 * The CLI prints its message on one line and exits with `exitCode` (2), without a stack trace
 * unless `--verbose` is given. Rooms subclass it so tests can match on the kind of failure.
 */
export class EvalsError extends Error {
  readonly exitCode: number = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
