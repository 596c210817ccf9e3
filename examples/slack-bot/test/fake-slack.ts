/** A fake Slack Web API on 127.0.0.1 and a client that sends signed Events API requests to Bolt. */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const BOT_USER = 'UBOT';

export interface ApiCall {
  method: string;
  body: Record<string, unknown>;
  auth: string | undefined;
}

export interface FakeSlack {
  apiUrl: string;
  calls: ApiCall[];
  /** Messages the bot posted, by ts, with their latest text. */
  messages(): { ts: string; channel: string; thread_ts?: string; text: string; updates: number }[];
  close(): Promise<void>;
}

/** `socketUrl`: what `apps.connections.open` returns (Socket Mode); without it the method fails as for an HTTP app. */
export async function startFakeSlack(socketUrl?: string): Promise<FakeSlack> {
  const calls: ApiCall[] = [];
  const msgs = new Map<
    string,
    { ts: string; channel: string; thread_ts?: string; text: string; updates: number }
  >();
  let n = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
    const body = parseBody(raw, req.headers['content-type']);
    calls.push({ method, body, auth: req.headers.authorization });
    let out: Record<string, unknown> = { ok: false, error: 'unknown_method' };
    if (method === 'auth.test')
      out = { ok: true, user_id: BOT_USER, bot_id: 'BBOT', team_id: 'T1', user: 'harmonia' };
    if (method === 'apps.connections.open')
      out = socketUrl ? { ok: true, url: socketUrl } : { ok: false, error: 'invalid_auth' };
    if (method === 'chat.postMessage') {
      const ts = `1700000100.${String(++n).padStart(6, '0')}`;
      const rec = {
        ts,
        channel: String(body.channel),
        text: String(body.text),
        updates: 0,
        ...(body.thread_ts ? { thread_ts: String(body.thread_ts) } : {}),
      };
      msgs.set(ts, rec);
      out = { ok: true, channel: body.channel, ts, message: { text: body.text } };
    }
    if (method === 'chat.update') {
      const rec = msgs.get(String(body.ts));
      if (rec) {
        rec.text = String(body.text);
        rec.updates++;
      }
      out = rec
        ? { ok: true, channel: body.channel, ts: body.ts }
        : { ok: false, error: 'message_not_found' };
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    calls,
    messages: () => [...msgs.values()],
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function parseBody(raw: string, type: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (type?.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(raw));
}

/** Posts an Events API envelope to Bolt, signed the way Slack signs it. */
export async function sendEvent(
  port: number,
  secret: string,
  event: Record<string, unknown>,
  opts: { ageSeconds?: number; wrongSecret?: boolean } = {},
): Promise<Response> {
  const body = JSON.stringify({
    token: 'legacy',
    team_id: 'T1',
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2)}`,
    event_time: Math.floor(Date.now() / 1000),
    event,
  });
  const ts = String(Math.floor(Date.now() / 1000) - (opts.ageSeconds ?? 0));
  const sig = createHmac('sha256', opts.wrongSecret ? `${secret}x` : secret)
    .update(`v0:${ts}:${body}`)
    .digest('hex');
  return fetch(`http://127.0.0.1:${port}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': `v0=${sig}`,
    },
    body,
  });
}
