import OpenAI from 'openai';
import { BackendError } from './errors.js';
import {
  AttemptError,
  isConnectionError,
  type RetryOptions,
  retryAfterMs,
  retryableStatus,
  retryPolicy,
  withRetries,
} from './retry.js';

/**
 * The `openai` client the message-level backends share. Its own retries are off: the backends retry through
 * `withRetries` like every other backend (same policy, same jittered backoff, only before the first streamed byte:
 * `create()` resolves once the response headers are in).
 */
export function openaiClient(opts: {
  baseURL: string;
  apiKey?: string | undefined;
  client?: OpenAI | undefined;
  retry?: RetryOptions | undefined;
}): OpenAI {
  return (
    opts.client ??
    new OpenAI({
      baseURL: opts.baseURL,
      apiKey: opts.apiKey ?? 'not-needed',
      maxRetries: 0,
      timeout: retryPolicy(opts.retry).timeoutMs,
    })
  );
}

/** Calls the `openai` client with retries, turning its HTTP errors into a `BackendError` that names the server. */
export async function viaOpenAI<T>(
  backendId: string,
  call: () => Promise<T>,
  opts: { retry?: RetryOptions | undefined; signal?: AbortSignal | undefined } = {},
): Promise<T> {
  return withRetries(
    async () => {
      try {
        return await call();
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        if (err instanceof OpenAI.APIError && err.status !== undefined) {
          throw new AttemptError(
            new BackendError(`${backendId}: HTTP ${err.status}: ${err.message}`, err.status),
            retryableStatus(err.status),
            retryAfterMs(err.headers as { get(n: string): string | null } | undefined),
          );
        }
        if (err instanceof OpenAI.APIConnectionError || isConnectionError(err)) {
          const cause = (err as { cause?: { code?: string } }).cause?.code;
          throw new AttemptError(
            new BackendError(`${backendId}: cannot reach the server (${cause ?? (err as Error).message})`),
            true,
          );
        }
        throw err;
      }
    },
    { retry: opts.retry, signal: opts.signal },
  );
}
