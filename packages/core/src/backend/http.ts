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

/** A timeout signal for one attempt that stops counting once the answer's headers are in. */
function attemptSignal(
  outer: AbortSignal | undefined,
  timeoutMs: number,
): { signal: AbortSignal; headersIn(): void } {
  const ac = new AbortController();
  const onAbort = () => ac.abort(outer?.reason);
  if (outer?.aborted) ac.abort(outer.reason);
  else outer?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => ac.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  timer.unref?.();
  return {
    signal: ac.signal,
    headersIn: () => clearTimeout(timer),
  };
}

/**
 * POSTs JSON; throws `BackendError` with the server's own words on a non-2xx answer. Connection errors, 408/409/429
 * and 5xx are retried with jittered backoff (see `RetryOptions`) before the body is read — a streamed answer is
 * never sent twice.
 */
export async function postJson(
  url: string,
  body: unknown,
  opts: {
    headers?: Record<string, string>;
    signal?: AbortSignal | undefined;
    what: string;
    retry?: RetryOptions | undefined;
  },
): Promise<Response> {
  const policy = retryPolicy(opts.retry);
  return withRetries(
    async () => {
      const a = attemptSignal(opts.signal, policy.timeoutMs);
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...opts.headers },
          body: JSON.stringify(body),
          signal: a.signal,
        });
      } catch (err) {
        a.headersIn();
        if (opts.signal?.aborted) throw err;
        const e = err as Error;
        const reason = a.signal.aborted
          ? String((a.signal.reason as Error)?.message ?? e.message)
          : causeOf(e);
        throw new AttemptError(
          new BackendError(`${opts.what}: cannot reach ${url} (${reason})`),
          a.signal.aborted || isConnectionError(err),
        );
      }
      a.headersIn();
      if (!res.ok) {
        const text = await res.text().catch(() => '');
        throw new AttemptError(
          new BackendError(
            `${opts.what}: ${url} answered HTTP ${res.status}: ${text.slice(0, 500) || res.statusText}`,
            res.status,
            text,
          ),
          retryableStatus(res.status),
          retryAfterMs(res.headers),
        );
      }
      return res;
    },
    { retry: policy, signal: opts.signal },
  );
}

/** The most specific reason a fetch failed (`ECONNREFUSED` rather than "fetch failed"). */
export function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/** Splits a streamed body into lines (NDJSON and SSE both frame by newline). */
export async function* lines(res: Response): AsyncIterable<string> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      yield buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
  }
  buf += decoder.decode();
  if (buf) yield buf;
}

/** The JSON payloads of an SSE stream's `data:` lines, ending at `[DONE]`. */
export async function* sseData(res: Response, what: string): AsyncIterable<unknown> {
  for await (const line of lines(res)) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') return;
    if (data === '') continue;
    try {
      yield JSON.parse(data);
    } catch {
      throw new BackendError(`${what}: unreadable stream event: ${data.slice(0, 200)}`);
    }
  }
}

/** Joins a base URL and a path without doubling `/v1`. */
export function joinUrl(base: string, path: string): string {
  const b = base.replace(/\/+$/, '');
  if (b.endsWith('/v1') && path.startsWith('/v1/')) return b + path.slice(3);
  return b + path;
}

/** `authorization: Bearer KEY` when a key is set. */
export const authHeaders = (apiKey: string | undefined): Record<string, string> =>
  apiKey ? { authorization: `Bearer ${apiKey}` } : {};
