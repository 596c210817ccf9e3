/** A document that cannot be indexed (too big, binary, not UTF-8, unreadable); it is skipped, never fatal. */
export class DocumentError extends Error {
  override name = 'DocumentError';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/** The index cannot be used as asked (no table yet, wrong evaluation file, bad option). */
export class FaqIndexError extends Error {
  override name = 'FaqIndexError';
}
