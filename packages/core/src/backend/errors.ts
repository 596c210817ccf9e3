/** A backend answered with an HTTP error or a body we cannot read. The message says which server and why. */
export class BackendError extends Error {
  override name = 'BackendError';
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: string,
  ) {
    super(message);
  }
}

/** A ScriptedBackend was called more times than it has steps. */
export class ScriptExhaustedError extends Error {
  override name = 'ScriptExhaustedError';
}

/** A ScriptedBackend finished with steps nobody asked for. */
export class UnusedScriptError extends Error {
  override name = 'UnusedScriptError';
}
