/**
 * An error the user can act on: printed as one line by the CLI (no stack trace unless --debug).
 * The message must say what was wrong, with which file/tensor/argument, and what to do.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
