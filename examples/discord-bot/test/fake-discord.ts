/**
 * A fake Discord on 127.0.0.1: the REST routes the bot uses and a gateway (hello, identify → READY and
 * GUILD_CREATE, heartbeats). Tests push MESSAGE_CREATE events and read what the bot sent.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export const BOT = {
  id: '900',
  username: 'harmonia',
  discriminator: '0',
  global_name: null,
  avatar: null,
  bot: true,
};
export const GUILD = '100';
export const CHANNEL = '200';
export const MOD_ROLE = '300';

export interface Recorded {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
}

export interface FakeDiscord {
  api: string;
  requests: Recorded[];
  /** Sends a MESSAGE_CREATE; returns the message id. */
  message(m: {
    content: string;
    channelId?: string;
    guild?: boolean;
    roles?: string[];
    authorId?: string;
  }): string;
  /** Messages the bot posted or edited, by id, latest content. */
  posted(): { id: string; channelId: string; content: string; edits: number }[];
  close(): Promise<void>;
}

export async function startFakeDiscord(): Promise<FakeDiscord> {
  const requests: Recorded[] = [];
  const sockets = new Set<WebSocket>();
  const messages = new Map<string, { id: string; channelId: string; content: string; edits: number }>();
  let nextId = 5000;
  let seq = 0;
  const user = (id: string) => ({
    id,
    username: `user${id}`,
    discriminator: '0',
    global_name: null,
    avatar: null,
  });
  const message = (id: string, channelId: string, content: string, author: object) => ({
    id,
    channel_id: channelId,
    author,
    content,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: 0,
  });

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = (req.url ?? '').replace(/^\/api\/v10/, '').split('?')[0]!;
    requests.push({ method: req.method ?? '', path, body });
    const json = (status: number, data: unknown) => {
      if (data === undefined) {
        res.writeHead(status);
        res.end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(data));
    };
    let m: RegExpExecArray | null = null;
    const route = (method: string, re: RegExp) => {
      m = req.method === method ? re.exec(path) : null;
      return m !== null;
    };
    if (req.method === 'GET' && path === '/gateway/bot') {
      return json(200, {
        url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 },
      });
    }
    if (route('POST', /^\/channels\/(\d+)\/typing$/)) return json(204, undefined);
    if (route('POST', /^\/channels\/(\d+)\/messages$/)) {
      const id = String(nextId++);
      const content = String(body?.content ?? '');
      messages.set(id, { id, channelId: m![1]!, content, edits: 0 });
      return json(200, message(id, m![1]!, content, BOT));
    }
    if (route('PATCH', /^\/channels\/(\d+)\/messages\/(\d+)$/)) {
      const rec = messages.get(m![2]!);
      if (rec) {
        rec.content = String(body?.content ?? '');
        rec.edits++;
      }
      return json(200, message(m![2]!, m![1]!, String(body?.content ?? ''), BOT));
    }
    if (route('POST', /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/)) {
      const id = String(nextId++);
      return json(201, {
        id,
        type: 11,
        guild_id: GUILD,
        parent_id: m![1],
        name: body?.name,
        owner_id: BOT.id,
        thread_metadata: {
          archived: false,
          auto_archive_duration: 1440,
          archive_timestamp: new Date().toISOString(),
          locked: false,
        },
        message_count: 0,
        member_count: 1,
      });
    }
    if (route('GET', /^\/channels\/(\d+)$/)) {
      return json(200, { id: m![1], type: 1, recipients: [user('42')] });
    }
    json(404, { message: 'Unknown route', code: 0 });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 45_000 } }));
    ws.on('message', (raw) => {
      const p = JSON.parse(String(raw)) as { op: number };
      if (p.op === 1) ws.send(JSON.stringify({ op: 11 }));
      if (p.op === 2) {
        dispatch(ws, 'READY', {
          v: 10,
          user: BOT,
          guilds: [{ id: GUILD, unavailable: true }],
          session_id: 'fake-session',
          resume_gateway_url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
          application: { id: BOT.id, flags: 0 },
        });
        dispatch(ws, 'GUILD_CREATE', {
          id: GUILD,
          name: 'Test guild',
          owner_id: '1',
          unavailable: false,
          member_count: 2,
          roles: [
            {
              id: GUILD,
              name: '@everyone',
              permissions: '0',
              position: 0,
              color: 0,
              hoist: false,
              managed: false,
              mentionable: false,
              flags: 0,
            },
            {
              id: MOD_ROLE,
              name: 'mods',
              permissions: '0',
              position: 1,
              color: 0,
              hoist: false,
              managed: false,
              mentionable: false,
              flags: 0,
            },
          ],
          channels: [
            {
              id: CHANNEL,
              type: 0,
              name: 'support',
              guild_id: GUILD,
              position: 0,
              permission_overwrites: [],
            },
          ],
          threads: [],
          members: [],
          emojis: [],
          stickers: [],
          features: [],
          voice_states: [],
          presences: [],
          stage_instances: [],
          guild_scheduled_events: [],
          joined_at: new Date().toISOString(),
          large: false,
        });
      }
    });
    ws.on('close', () => sockets.delete(ws));
  });
  function dispatch(ws: WebSocket, t: string, d: unknown) {
    ws.send(JSON.stringify({ op: 0, t, s: ++seq, d }));
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;

  return {
    api: `http://127.0.0.1:${port}/api`,
    requests,
    message({ content, channelId = CHANNEL, guild = true, roles = [], authorId = '42' }) {
      const id = String(nextId++);
      const data = {
        ...message(id, channelId, content, user(authorId)),
        ...(guild
          ? {
              guild_id: GUILD,
              member: { roles, joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 },
            }
          : { channel_type: 1 }), // the real gateway says DM in `channel_type`
        mentions: content.includes(`<@${BOT.id}>`) ? [BOT] : [],
      };
      for (const ws of sockets) dispatch(ws, 'MESSAGE_CREATE', data);
      return id;
    },
    posted: () => [...messages.values()],
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    // multipart or other encodings: keep the raw text for assertions
    return { raw: text };
  }
}
