import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  BackendUnavailableError,
  harmonyScript as H,
  InMemoryConversationStore,
  OllamaChatBackend,
  ScriptedBackend,
  StoreOpenError,
  type TokenBackend,
  type TokenChunk,
  type TokenRequest,
} from '@harmonia/core';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeServer } from '../../core/test/fakes/server.js';
import { ollamaChat, TurnQueue } from '../../core/test/fakes/wire.js';
import {
  BotConfigError,
  type BotLogger,
  type ChatMessage,
  type ChatSink,
  createChatAdapter,
  createSupportBot,
  DEFAULT_ERROR_REPLY,
  DEFAULT_RATE_LIMIT_REPLY,
  rateLimitFromEnv,
  shutdown,
  startHealthServer,
  startupExitCode,
} from '../src/index.js';
import { POLICY } from './helpers.js';

/** A port that refuses connections until `up()`, then forwards to a real fake Ollama server. */
class SwitchablePort {
  port = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(private readonly target: () => number) {}
  async reserve(): Promise<this> {
    await this.up();
    await this.down();
    return this;
  }
  async up(): Promise<void> {
    this.server = createServer((s) => {
      this.sockets.add(s);
      const out = connect(this.target(), '127.0.0.1');
      s.pipe(out).pipe(s);
      s.on('error', () => out.destroy());
      out.on('error', () => s.destroy());
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }
}

function recordingSink() {
  const posts: string[] = [];
  const edits: string[] = [];
  const sink: ChatSink = {
    typing: async () => {},
    post: async (t) => {
      posts.push(t);
    },
    edit: async (t) => {
      edits.push(t);
    },
  };
  return { sink, posts, edits };
}

function memoryLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const log: BotLogger = {
    info: (obj, msg) =>
      lines.push({ level: 'info', obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) }),
    warn: (obj, msg) =>
      lines.push({ level: 'warn', obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) }),
    error: (obj, msg) =>
      lines.push({ level: 'error', obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) }),
  };
  return { log, lines };
}

const msg = (conversationId: string, text: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  conversationId,
  text,
  author: 'ana',
  isModerator: false,
  ...extra,
});

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('bot failures: backend down, then back', () => {
  it('answers with a polite error and a logged error while the model server is down, and recovers when it is back', async () => {
    const fake = await new FakeServer(
      ollamaChat(new TurnQueue([{ reasoning: 'simple', content: 'Install it with pnpm.' }])),
    ).start();
    cleanup.push(() => fake.close());
    const port = await new SwitchablePort(() => Number(new URL(fake.url).port)).reserve();
    cleanup.push(() => port.down());
    const backend = new OllamaChatBackend({
      baseURL: `http://127.0.0.1:${port.port}`,
      model: 'gpt-oss:20b',
      retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 20 },
    });
    const bot = createSupportBot({ policy: POLICY, backend, currentDate: null });
    const { log, lines } = memoryLogger();
    const adapter = createChatAdapter(bot, { formatLink: (u) => u, editIntervalMs: 0, logger: log });

    const down = recordingSink();
    const r1 = await adapter.onMessage(msg('t1', 'how do I install it?'), down.sink);
    expect(r1).toBeUndefined();
    expect(down.posts).toEqual([DEFAULT_ERROR_REPLY]);
    const err = lines.find((l) => l.level === 'error');
    expect(err?.msg).toBe('answer failed');
    expect(err?.obj).toMatchObject({ conversationId: 't1' });
    expect(String((err!.obj.err as { message?: string }).message)).toMatch(/ECONNREFUSED|connect|refused/i);
    expect(typeof err?.obj.turnId).toBe('string');
    expect(fake.requests).toHaveLength(0);
    // The user's message was kept: nothing is lost while the backend is down.
    const kept = await bot.store.load('t1');
    expect(kept?.messages.map((m) => m.role)).toEqual(['user']);

    await port.up();
    const up = recordingSink();
    const r2 = await adapter.onMessage(msg('t1', 'how do I install it?'), up.sink);
    expect(r2?.status).toBe('completed');
    expect([...up.posts, ...up.edits].at(-1)).toBe('Install it with pnpm.');
    expect(lines.some((l) => l.msg === 'answered' && l.obj.status === 'completed')).toBe(true);
  });

  it('retries with backoff: a server that comes back during the retries answers the same message', async () => {
    const fake = await new FakeServer(ollamaChat(new TurnQueue([{ content: 'Back again.' }]))).start();
    cleanup.push(() => fake.close());
    const port = await new SwitchablePort(() => Number(new URL(fake.url).port)).reserve();
    cleanup.push(() => port.down());
    const backend = new OllamaChatBackend({
      baseURL: `http://127.0.0.1:${port.port}`,
      model: 'gpt-oss:20b',
      retry: { retries: 6, baseDelayMs: 100, maxDelayMs: 400 },
    });
    const bot = createSupportBot({ policy: POLICY, backend, currentDate: null });
    const adapter = createChatAdapter(bot, { formatLink: (u) => u, editIntervalMs: 0 });
    const s = recordingSink();
    setTimeout(() => void port.up(), 150);
    const reply = await adapter.onMessage(msg('t2', 'hello'), s.sink);
    expect(reply?.status).toBe('completed');
    expect(s.posts).not.toContain(DEFAULT_ERROR_REPLY);
    expect([...s.posts, ...s.edits].at(-1)).toBe('Back again.');
  });
});

/** A scripted backend whose every call waits `ms` (or until aborted) before answering. */
function slowBackend(steps: string[], ms: number): TokenBackend & { calls: number } {
  const inner = new ScriptedBackend(steps);
  return {
    kind: 'tokens',
    id: 'slow',
    get calls() {
      return inner.calls;
    },
    generate: (r: TokenRequest) => inner.generate(r),
    async *stream(r: TokenRequest): AsyncIterable<TokenChunk> {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        r.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      yield* inner.stream(r);
    },
  };
}

describe('graceful shutdown, rate limit, one answer per message', () => {
  it('drains: finishes answers within the deadline, aborts the rest with the error reply, refuses new ones; health turns 503', async () => {
    const backend = slowBackend([H.final('Quick.'), H.final('Slow.')], 100);
    const bot = createSupportBot({ policy: POLICY, backend, currentDate: null });
    const adapter = createChatAdapter(bot, { formatLink: (u) => u, editIntervalMs: 0, rateLimit: false });
    const health = await startHealthServer({ port: 0, host: '127.0.0.1' });
    expect((await fetch(`http://127.0.0.1:${health.port}/healthz`)).status).toBe(200);
    const a = recordingSink();
    const pa = adapter.onMessage(msg('a', 'first'), a.sink);
    expect(adapter.inFlight).toBe(1);
    let stopped = false;
    const result = await shutdown({
      adapter,
      stopApp: async () => {
        stopped = true;
      },
      health: { ...health, close: async () => {} },
      deadlineMs: 5000,
    });
    await pa;
    expect(result).toEqual({ finished: 1, aborted: 0 });
    expect([...a.posts, ...a.edits].at(-1)).toBe('Quick.');
    expect(stopped).toBe(true);
    expect((await fetch(`http://127.0.0.1:${health.port}/healthz`)).status).toBe(503);
    await health.close();
    const late = recordingSink();
    expect(await adapter.onMessage(msg('b', 'too late'), late.sink)).toBeUndefined();
    expect(late.posts).toEqual([]);

    // A turn that cannot finish by the deadline is aborted and its user told.
    const hung = slowBackend([H.final('Never shown.')], 60_000);
    const bot2 = createSupportBot({ policy: POLICY, backend: hung, currentDate: null });
    const adapter2 = createChatAdapter(bot2, { formatLink: (u) => u, editIntervalMs: 0 });
    const h = recordingSink();
    const ph = adapter2.onMessage(msg('h', 'question'), h.sink);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const r2 = await adapter2.drain(200);
    await ph;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r2).toEqual({ finished: 0, aborted: 1 });
    expect(h.posts).toEqual([DEFAULT_ERROR_REPLY]);
  });

  it('rate-limits each user (one notice per window) and answers a message delivered twice only once', async () => {
    const backend = new ScriptedBackend([H.final('One.'), H.final('Two.'), H.final('Three.')]);
    const bot = createSupportBot({
      policy: POLICY,
      backend,
      currentDate: null,
      store: new InMemoryConversationStore(),
    });
    const adapter = createChatAdapter(bot, {
      formatLink: (u) => u,
      editIntervalMs: 0,
      rateLimit: { messages: 2, perMs: 60_000 },
    });
    const s = recordingSink();
    await adapter.onMessage(msg('r', 'q1', { userId: 'u1' }), s.sink);
    await adapter.onMessage(msg('r', 'q2', { userId: 'u1' }), s.sink);
    await adapter.onMessage(msg('r', 'q3', { userId: 'u1' }), s.sink);
    await adapter.onMessage(msg('r', 'q4', { userId: 'u1' }), s.sink);
    expect(s.posts).toEqual(['One.', 'Two.', DEFAULT_RATE_LIMIT_REPLY]);
    // Another user is not limited.
    const o = recordingSink();
    await adapter.onMessage(msg('o', 'hi', { userId: 'u2', messageId: 'm-1' }), o.sink);
    await adapter.onMessage(msg('o', 'hi', { userId: 'u2', messageId: 'm-1' }), o.sink);
    expect(o.posts).toEqual(['Three.']);
    expect(backend.calls).toBe(3);
  });
});

describe('bot process configuration', () => {
  it('reads RATE_LIMIT (default 6 a minute, 0 off) and refuses anything else with a config error (exit 2)', () => {
    expect(rateLimitFromEnv(undefined)).toEqual({ messages: 6, perMs: 60_000 });
    expect(rateLimitFromEnv('12')).toEqual({ messages: 12, perMs: 60_000 });
    expect(rateLimitFromEnv('0')).toBe(false);
    for (const bad of ['-1', '1.5', 'many']) {
      expect(() => rateLimitFromEnv(bad)).toThrow(BotConfigError);
      expect(startupExitCode(new BotConfigError(bad))).toBe(2);
    }
    expect(() => rateLimitFromEnv('many')).toThrow(
      "RATE_LIMIT must be a whole number of questions per minute, got 'many'",
    );
  });

  it('reports unusable backends, docs and stores in one line (exit 1) and lets bugs throw', () => {
    expect(startupExitCode(new BackendUnavailableError('no server'))).toBe(1);
    expect(startupExitCode(new StoreOpenError('bad store'))).toBe(1);
    expect(startupExitCode(new TypeError('bug'))).toBeUndefined();
  });
});
