/** Base class of every error the Harmony layer throws. */
export class HarmonyError extends Error {
  override name = 'HarmonyError';
}

/** A token id that is not in the `o200k_harmony` vocabulary, or bytes that are not valid UTF-8 where they must be. */
export class HarmonyTokenError extends HarmonyError {
  override name = 'HarmonyTokenError';
}

/** A message or conversation that cannot be rendered (e.g. a tool message without a name). */
export class HarmonyRenderError extends HarmonyError {
  override name = 'HarmonyRenderError';
}

/** Input JSON that is not a conversation in serde form. `path` points at the offending field. */
export class HarmonyInputError extends HarmonyError {
  override name = 'HarmonyInputError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/**
 * A strict-mode parse error. The message is the official openai-harmony text (e.g.
 * `unexpected tokens remaining in message header: Some("I")`); `tokenIndex` is the position of the token that
 * triggered it (or the token count, at end of stream).
 */
export class HarmonyParseError extends HarmonyError {
  override name = 'HarmonyParseError';
  constructor(
    message: string,
    readonly tokenIndex: number,
  ) {
    super(message);
  }
}
