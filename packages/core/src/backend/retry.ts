import { BackendError } from './errors.js';

/**
 * How a backend retries a model call that failed before any of the answer arrived: connection errors (refused,
 * reset, DNS, timeout waiting for headers), HTTP 408/409/429 and 5xx. Model calls carry no server-side state
 * (stateless Chat Completions, `store: false` Responses, raw prompts), so sending one again is safe; once the first
 * byte of a streamed answer is read nothing is retried, because the caller may already have shown it.
 */
export interface RetryOptions {
  /** Extra attempts after the first (default 3; 0 turns retries off). */
  retries?: number;
  /** First backoff step in ms (default 500); each step doubles, with full jitter. */
  baseDelayMs?: number;
  /** Upper bound of one backoff step in ms (default 8000); a server's Retry-After above it is capped too. */
  maxDelayMs?: number;
  /** How long one attempt may wait for the response headers, in ms (default 600000). */
  timeoutMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  retries: 3,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  timeoutMs: 600_000,
};

export const retryPolicy = (o: RetryOptions | undefined): Required<RetryOptions> => ({
  ...DEFAULT_RETRY,
  ...o,
});

/** HTTP statuses worth another try: timeouts, conflicts, rate limits and server errors. */
export const retryableStatus = (status: number | undefined): boolean =>
  status === 408 || status === 409 || status === 429 || (status !== undefined && status >= 500);

/** A failure of one attempt, with what the next attempt needs to know. */
export class AttemptError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly retryable: boolean,
    /** The server's Retry-After (`retry-after-ms` or `retry-after`), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
}

/** Reads `retry-after-ms` (OpenAI's) or `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') !== null && Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  const s = Number(raw);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Backoff before attempt `n` (1-based retry number): full jitter over an exponential step, or Retry-After. */
export function backoffMs(n: number, policy: Required<RetryOptions>, retryAfter?: number): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, policy.maxDelayMs);
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
  return Math.round(step / 2 + (Math.random() * step) / 2);
}

/** Waits `ms`, rejecting with the signal's reason as soon as it aborts. */
export const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Connection-level failures (no HTTP answer at all) that another attempt may get past. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (
    e?.name === 'TimeoutError' ||
    e?.name === 'APIConnectionError' ||
    e?.name === 'APIConnectionTimeoutError'
  )
    return true;
  const code = e?.cause?.code ?? e?.code ?? '';
  return (
    /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_\w+)$/.test(
      code,
    ) ||
    (e?.name === 'TypeError' && /fetch failed/.test(String((err as Error).message)))
  );
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the retries are spent. `attempt` throws an `AttemptError`
 * to say whether its failure is worth another try; anything else ends the loop at once. The last failure's cause
 * is rethrown, its message noting how many attempts were made.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  opts: {
    retry?: RetryOptions | undefined;
    signal?: AbortSignal | undefined;
    onRetry?: (n: number, wait: number, why: string) => void;
  },
): Promise<T> {
  const policy = retryPolicy(opts.retry);
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof AttemptError)) throw err;
      if (!err.retryable || n >= policy.retries || opts.signal?.aborted) {
        const cause = err.cause;
        if (n > 0 && cause instanceof BackendError) {
          throw new BackendError(`${cause.message} (after ${n + 1} attempts)`, cause.status, cause.body);
        }
        throw cause;
      }
      const wait = backoffMs(n + 1, policy, err.retryAfterMs);
      opts.onRetry?.(n + 1, wait, err.message);
      await abortableSleep(wait, opts.signal);
    }
  }
}
