import { BackendError } from './errors.js';

/** POSTs JSON; throws `BackendError` with the server's own words on a non-2xx answer. */
export async function postJson(
  url: string,
  body: unknown,
  opts: { headers?: Record<string, string>; signal?: AbortSignal; what: string },
): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...opts.headers },
      body: JSON.stringify(body),
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new BackendError(`${opts.what}: cannot reach ${url} (${(err as Error).message})`);
  }
  if (!res.ok) {
    const text = await res.text().catch(() => '');
    throw new BackendError(
      `${opts.what}: ${url} answered HTTP ${res.status}: ${text.slice(0, 500) || res.statusText}`,
      res.status,
      text,
    );
  }
  return res;
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
