/**
 * `harmonia serve` has two keys, one name each: the key its clients must send (`--api-key`,
 * $HARMONIA_SERVE_API_KEY) and the key it sends to the model server (`--backend-api-key`, else $HARMONIA_API_KEY
 * for the $HARMONIA_BACKEND backend, as in every other command). $HARMONIA_API_KEY alone keeps its old meaning on
 * serve (a server that required a key still does), with one line saying so.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeServer } from '../../core/test/fakes/server.js';
import { vllmServer } from '../../core/test/fakes/servers.js';
import type { FakeTurn } from '../../core/test/fakes/wire.js';
import { memoryIO } from '../src/command.js';
import { type RunningServer, serveKeys, startServe } from '../src/commands/serve.js';
import { main } from '../src/main.js';

const FINAL: FakeTurn = { reasoning: 'Easy.', content: 'Hello from the model.' };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A vLLM fake behind a proxy that records the Authorization header of every request. */
async function backend(): Promise<{ url: string; auth: (string | undefined)[] }> {
  const inner = await new FakeServer(vllmServer([FINAL, FINAL, FINAL]).handler).start();
  closers.push(() => inner.close());
  const auth: (string | undefined)[] = [];
  const proxy: Server = createServer(async (req, res) => {
    auth.push(req.headers.authorization);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = await fetch(`${inner.url}${req.url}`, {
      method: req.method,
      headers: { 'content-type': 'application/json' },
      ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
    });
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await r.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, auth };
}

async function serve(args: string[], env: NodeJS.ProcessEnv) {
  const t = memoryIO();
  const running: RunningServer = await startServe([...args, '--port', '0'], t.io, env);
  closers.push(() => running.close());
  return { running, stderr: t.stderr };
}

async function ask(url: string, key?: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model: 'gpt-oss-20b', messages: [{ role: 'user', content: 'Hi' }] }),
  });
  const body = (await r.json()) as { choices?: { message: { content: string } }[] };
  return { status: r.status, text: body.choices?.[0]?.message.content ?? '' };
}

describe('harmonia serve keys', () => {
  it('HARMONIA_SERVE_API_KEY is asked of clients; HARMONIA_API_KEY goes to the HARMONIA_BACKEND server', async () => {
    const b = await backend();
    const { running, stderr } = await serve([], {
      HARMONIA_BACKEND: b.url,
      HARMONIA_API_KEY: 'backend-key',
      HARMONIA_SERVE_API_KEY: 'client-key',
    });
    expect((await ask(running.url)).status).toBe(401);
    expect((await ask(running.url, 'backend-key')).status).toBe(401);
    expect(await ask(running.url, 'client-key')).toEqual({ status: 200, text: 'Hello from the model.' });
    expect(b.auth.length).toBeGreaterThan(1);
    expect(b.auth.every((a) => a === 'Bearer backend-key')).toBe(true);
    expect(stderr()).toBe('');
  });

  it('--api-key and --backend-api-key name each key; HARMONIA_API_KEY is not sent to another server', async () => {
    const b = await backend();
    const { running } = await serve(['--backend', b.url, '--api-key', 'in', '--backend-api-key', 'out'], {
      HARMONIA_BACKEND: 'http://127.0.0.1:9/other',
      HARMONIA_API_KEY: 'elsewhere',
    });
    expect((await ask(running.url, 'out')).status).toBe(401);
    expect((await ask(running.url, 'in')).status).toBe(200);
    expect(b.auth.every((a) => a === 'Bearer out')).toBe(true);

    const c = await backend();
    const plain = await serve(['--backend', c.url, '--api-key', 'in'], {
      HARMONIA_BACKEND: 'http://127.0.0.1:9/other',
      HARMONIA_API_KEY: 'elsewhere',
    });
    expect((await ask(plain.running.url, 'in')).status).toBe(200);
    expect(c.auth.every((a) => a === undefined)).toBe(true);
  });

  it('HARMONIA_API_KEY alone: still required of clients (never an open server), said in one line, not sent on', async () => {
    const b = await backend();
    const { running, stderr } = await serve([], { HARMONIA_BACKEND: b.url, HARMONIA_API_KEY: 'old-key' });
    expect(stderr()).toBe(
      'harmonia serve: requiring $HARMONIA_API_KEY from clients as before; set HARMONIA_SERVE_API_KEY (or --api-key) for that, as $HARMONIA_API_KEY is the key sent to model servers.\n',
    );
    expect((await ask(running.url)).status).toBe(401);
    expect(await ask(running.url, 'old-key')).toEqual({ status: 200, text: 'Hello from the model.' });
    expect(b.auth.every((a) => a === undefined)).toBe(true);
  });

  it('serveKeys: the table', () => {
    expect(serveKeys({}, {})).toEqual({ envKeyIsOutbound: true });
    expect(serveKeys({ 'api-key': 'a' }, { HARMONIA_API_KEY: 'b' })).toEqual({
      inbound: 'a',
      envKeyIsOutbound: true,
    });
    expect(serveKeys({}, { HARMONIA_SERVE_API_KEY: 's', HARMONIA_API_KEY: 'b' })).toEqual({
      inbound: 's',
      envKeyIsOutbound: true,
    });
    expect(serveKeys({}, { HARMONIA_API_KEY: 'b' })).toMatchObject({ inbound: 'b', envKeyIsOutbound: false });
  });

  it('another command pointed at a harmonia serve URL finds it and talks Chat Completions; a missing key is named', async () => {
    const script = join(tmpdir(), `harmonia-serve-target-${process.pid}.json`);
    await writeFile(script, JSON.stringify(['<|channel|>final<|message|>Hi from serve.']));
    const { running } = await serve(['--backend', `script:${script}`], { HARMONIA_SERVE_API_KEY: 'k' });
    const ok = memoryIO();
    expect(await main(['run', '--backend', running.url, '--api-key', 'k', '--input', 'Hi'], ok.io)).toBe(0);
    expect(ok.stdout()).toBe('Hi from serve.\n');
    const d = memoryIO();
    await main(['doctor', '--backend', running.url, '--api-key', 'k', '--only'], d.io);
    expect(d.stdout()).toContain('found harmonia at');
    expect(d.stdout()).toContain('→ Chat Completions, profile openai');
    const nokey = memoryIO();
    expect(await main(['run', '--backend', running.url, '--input', 'Hi'], nokey.io)).toBe(1);
    expect(nokey.stderr()).toContain(
      '(HTTP 401: it wants a key; give --api-key KEY, or HARMONIA_API_KEY with HARMONIA_BACKEND)',
    );
  });
});
