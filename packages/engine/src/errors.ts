/** Base class of every error the engine raises; `code` says which kind of problem it is. */
export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    message: string,
    readonly code: EngineErrorCode,
  ) {
    super(message);
  }
}

export type EngineErrorCode =
  | 'missing_file'
  | 'bad_config'
  | 'bad_header'
  | 'missing_tensor'
  | 'wrong_shape'
  | 'unknown_dtype'
  | 'truncated_file'
  | 'native_unavailable'
  | 'bad_request'
  | 'native_failure';

/** A checkpoint that cannot be loaded: the message names the file and tensor and what was expected. */
export class CheckpointError extends EngineError {
  override name = 'CheckpointError';
}

/** The compiled addon is missing or failed to load. */
export class NativeUnavailableError extends EngineError {
  override name = 'NativeUnavailableError';
  constructor(message: string) {
    super(message, 'native_unavailable');
  }
}
