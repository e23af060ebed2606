/** An error with the HTTP status the viewer answers it with (UserErrors become 400). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
