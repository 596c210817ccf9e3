/** An error answered with an OpenAI-style body: `{ error: { message, type, param, code } }`. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A 400 about one request field. */
export const invalid = (param: string, message: string, code: string | null = null): ApiError =>
  new ApiError(400, message, 'invalid_request_error', param, code);

/** What went wrong inside a run, as the API reports it (the error's class name is the code). */
export function serverError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return new ApiError(500, e.message, 'server_error', null, e.name || 'error');
}
