import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  type ConversationStore,
  harmonyScript as H,
  InMemoryConversationStore,
  type Message,
  MIGRATIONS,
  migrate,
  migrationStatements,
  openStore,
  pgliteDriver,
  run,
  ScriptedBackend,
  SqlConversationStore,
  type SqlDriver,
  StoreOpenError,
  StoreSchemaError,
} from '../../src/index.js';
import { type PgServer, pgUnavailable, startPgServer } from './pg-server.js';

const user = (text: string): Message => ({ role: 'user', content: [{ type: 'text', text }] });
const final = (text: string): Message => ({
  role: 'assistant',
  channel: 'final',
  content: [{ type: 'text', text }],
});
const call = (recipient: string): Message => ({
  role: 'assistant',
  channel: 'commentary',
  recipient,
  content_type: '<|constrain|>json',
  content: [{ type: 'text', text: '{}' }],
});

const tmp: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'harmonia-store-'));
  tmp.push(d);
  return d;
};
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

const noPg = pgUnavailable();
if (noPg && process.env.CI) throw new Error(`CI needs PostgreSQL for the store tests: ${noPg}`);
let pg: PgServer | undefined;
let dbCounter = 0;
beforeAll(async () => {
  if (!noPg) pg = await startPgServer();
}, 60_000);
afterAll(async () => {
  await pg?.stop();
});

/** A fresh database on the test server per call (CREATE DATABASE), so store tests do not see each other. */
async function freshPgUrl(): Promise<string> {
  const name = `t${process.pid}_${++dbCounter}`;
  const admin = await openPgAdmin();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return pg!.url.replace(/\/postgres$/, `/${name}`);
}
async function openPgAdmin() {
  const pgmod = (await import('pg')).default;
  const c = new pgmod.Client({ connectionString: pg!.url });
  await c.connect();
  return c;
}

/**
 * One store per kind for the contract tests (each test uses its own conversation ids): opening a fresh
 * embedded database runs initdb in WebAssembly, seconds on a busy machine.
 */
const kinds: { name: string; skip?: string; open: () => Promise<ConversationStore> }[] = [
  { name: 'memory', open: async () => new InMemoryConversationStore() },
  { name: 'embedded (PGlite)', open: () => openStore(join(tempDir(), 'store')) },
  { name: 'postgres', ...(noPg ? { skip: noPg } : {}), open: async () => openStore(await freshPgUrl()) },
];

for (const kind of kinds) {
  describe.skipIf(kind.skip)(`ConversationStore: ${kind.name}`, () => {
    let shared: ConversationStore;
    beforeAll(async () => {
      shared = await kind.open();
    }, 60_000);
    afterAll(async () => {
      await shared?.dispose?.();
    });
    it('appends, loads in order, counts replies and tool calls, and moves ticket state', async () => {
      const s = shared;
      {
        expect(await s.load('none')).toBeNull();
        await s.append('c1', [user('hi')]);
        expect((await s.load('c1'))?.ticket?.state).toBe('open');
        await s.append('c1', [call('functions.lookup'), call('browser.search'), final('hello')]);
        const rec = await s.load('c1');
        expect(rec?.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'assistant', 'assistant']);
        expect(rec?.messages[3]).toEqual(final('hello'));
        expect(rec?.ticket).toMatchObject({ state: 'waiting', replies: 1, notes: [] });
        await s.append('c1', [user('more')]);
        expect((await s.load('c1'))?.ticket?.state).toBe('open');
        await s.escalate!('c1', { summary: 'wants a refund', by: 'model' });
        await s.addNote!('c1', { text: 'asked twice', author: 'model' });
        await s.append('c1', [final('a person will follow up')]);
        const esc = await s.load('c1');
        expect(esc?.ticket).toMatchObject({
          state: 'escalated',
          replies: 2,
          escalation: { summary: 'wants a refund', by: 'model' },
          notes: [{ text: 'asked twice', author: 'model' }],
        });
        await s.close('c1', 'resolved');
        const closed = await s.load('c1');
        expect(closed?.closed?.reason).toBe('resolved');
        expect(closed?.ticket?.state).toBe('closed');
        await s.setState!('c1', 'open');
        expect((await s.load('c1'))?.ticket?.state).toBe('closed');
        const list = await s.list();
        expect(list.find((c) => c.id === 'c1')).toMatchObject({
          id: 'c1',
          messageCount: 6,
          state: 'closed',
          replies: 2,
        });
        await s.recordUsage!('c1', {
          turnId: 't1',
          backend: 'b',
          effort: 'low',
          promptTokens: 100,
          completionTokens: 20,
          cachedPromptTokens: 50,
          modelCalls: 2,
        });
        const u = await s.usage!('c1');
        expect(u).toMatchObject({
          promptTokens: 100,
          completionTokens: 20,
          cachedPromptTokens: 50,
          modelCalls: 2,
          runs: 1,
        });
        expect(u.tools).toEqual([
          { tool: 'browser.search', calls: 1 },
          { tool: 'functions.lookup', calls: 1 },
        ]);
      }
    });

    it('claims a key once and serialises turns per conversation with leases', async () => {
      const s = shared;
      {
        expect(await s.claim!('discord:m1')).toBe(true);
        expect(await s.claim!('discord:m1')).toBe(false);
        // Resets (generations) are kept by the store.
        expect(await s.generation!('g')).toBe(0);
        expect(await s.nextGeneration!('g')).toBe(1);
        expect(await s.nextGeneration!('g')).toBe(2);
        expect(await s.generation!('g')).toBe(2);
        const order: string[] = [];
        const turn = async (name: string) => {
          const lease = await s.acquire!('c', { timeoutMs: 10_000 });
          order.push(`${name}+`);
          await new Promise((r) => setTimeout(r, 30));
          order.push(`${name}-`);
          await lease.release();
        };
        await Promise.all([turn('a'), turn('b'), turn('c')]);
        for (let i = 0; i < order.length; i += 2)
          expect(order[i]!.slice(0, -1)).toBe(order[i + 1]!.slice(0, -1));
        // Another conversation is not blocked by a held lease.
        const held = await s.acquire!('x');
        const other = await s.acquire!('y');
        await other.release();
        await held.release();
      }
    });

    it.skipIf(kind.name === 'memory')('a failed append writes nothing (one transaction)', async () => {
      const s = shared;
      await s.append('tx', [user('kept')]);
      // A circular message cannot be serialised: the whole batch must roll back.
      const circ = user('x') as Message & { self?: unknown };
      circ.self = circ;
      await expect(s.append('tx', [user('lost'), circ])).rejects.toThrow();
      expect((await s.load('tx'))?.messages).toHaveLength(1);
    });

    it('keeps any text a message can hold: NUL, a lone surrogate, quotes and backslashes', async () => {
      const s = shared;
      const odd = [
        user('a\u0000b'),
        final('\ud800 "quoted" \\ back\\slash \n end'),
        call('functions.x\u0000'),
      ];
      await s.append('odd', odd);
      await s.append('odd', [user('next')]);
      const rec = await s.load('odd');
      expect(rec?.messages).toEqual([...odd, user('next')]);
      expect(rec?.ticket?.replies).toBe(1);
    });

    it('concurrent appends to one conversation lose nothing', async () => {
      const s = shared;
      {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => s.append('c', [user(`m${i}`), final(`r${i}`)])),
        );
        const rec = await s.load('c');
        expect(rec?.messages).toHaveLength(40);
        expect(rec?.ticket?.replies).toBe(20);
        // Each append's two messages stay together.
        for (let i = 0; i < 40; i += 2) {
          const u = (rec!.messages[i]!.content[0] as { text: string }).text;
          expect((rec!.messages[i + 1]!.content[0] as { text: string }).text).toBe(u.replace('m', 'r'));
        }
      }
    });

    it('the agent records token usage and enforces the reply cap and closed state from the store', async () => {
      const s = shared;
      {
        const backend = new ScriptedBackend([H.final('one'), H.final('two')]);
        const agent = new Agent({
          instructions: 'x',
          backend,
          store: s,
          replyCap: 2,
          currentDate: '2026-01-15',
        });
        expect((await run(agent, 'a', { conversationId: 'k', turnId: 'turn-1' })).status).toBe('completed');
        expect((await run(agent, 'b', { conversationId: 'k' })).status).toBe('completed');
        expect((await run(agent, 'c', { conversationId: 'k' })).status).toBe('capped');
        expect((await run(agent, 'd', { conversationId: 'k' })).status).toBe('closed');
        const u = await s.usage!('k');
        expect(u.runs).toBe(2);
        expect(u.modelCalls).toBe(2);
        expect(u.promptTokens).toBeGreaterThan(0);
        expect((await s.load('k'))?.ticket?.state).toBe('closed');
      }
    });
  });
}

/** An embedded driver that counts the queries it runs (to see which loads the cache serves). */
async function countingDriver(dir: string): Promise<SqlDriver & { queries: string[] }> {
  const d = await pgliteDriver(dir);
  const queries: string[] = [];
  return {
    kind: 'embedded',
    queries,
    query: (sql, params) => {
      queries.push(sql);
      return d.query(sql, params);
    },
    exec: (sql) => d.exec(sql),
    transaction: (fn) =>
      d.transaction((tx) =>
        fn({
          query: (sql, params) => {
            queries.push(sql);
            return tx.query(sql, params);
          },
        }),
      ),
    close: () => d.close(),
  };
}

describe('embedded store: conversations cached in memory', () => {
  it('serves loads from memory after its own writes; other writes drop the entry; a second store on the driver turns it off', async () => {
    const d = await countingDriver(join(tempDir(), 'cache'));
    const s = await new SqlConversationStore(d).init();
    try {
      await s.append('a', [user('hi')]);
      await s.append('a', [final('hello')]);
      d.queries.length = 0;
      const rec = await s.load('a');
      expect(rec?.messages).toEqual([user('hi'), final('hello')]);
      expect(rec?.ticket).toMatchObject({ state: 'waiting', replies: 1 });
      expect(d.queries).toEqual([]);
      // A caller mutating a loaded record does not change what the store returns.
      rec!.messages.push(user('not stored'));
      rec!.ticket!.notes.push({ author: 'x', text: 'y', at: 'z' });
      expect((await s.load('a'))?.messages).toHaveLength(2);
      expect((await s.load('a'))?.ticket?.notes).toEqual([]);
      // A note goes to the database and drops the entry: the next load reads it.
      await s.addNote('a', { author: 'model', text: 'check the order' });
      d.queries.length = 0;
      expect((await s.load('a'))?.ticket?.notes).toMatchObject([
        { author: 'model', text: 'check the order' },
      ]);
      expect(d.queries).toHaveLength(1);
      d.queries.length = 0;
      await s.load('a');
      expect(d.queries).toEqual([]);
      // A conversation this store did not write is read once, then cached.
      expect(await s.load('missing')).toBeNull();
      // Another store on the same driver writes behind the first one's back: neither caches from now on.
      const other = new SqlConversationStore(d);
      await other.append('a', [user('from the other store')]);
      d.queries.length = 0;
      expect((await s.load('a'))?.messages).toHaveLength(3);
      expect(d.queries).toHaveLength(1);
    } finally {
      await s.dispose();
    }
  }, 60_000);

  it('a store reopened on the folder sees exactly what the cached store returned, after concurrent writes, loads and a failed append', async () => {
    const dir = join(tempDir(), 'reopen');
    const d = await pgliteDriver(dir);
    const s1 = await new SqlConversationStore(d).init();
    // A write the database refuses mid-statement (after the conversation upsert): nothing of it may stay.
    await d.exec(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.body::text LIKE '%refuse me%' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse();`);
    const ids = ['t0', 't1', 't2', 't3'];
    const ops: Promise<unknown>[] = [];
    for (let round = 0; round < 6; round++)
      for (const [i, id] of ids.entries()) {
        ops.push(
          s1.append(id, [user(`${id} q${round}`), call('functions.lookup'), final(`${id} a${round}`)]),
        );
        ops.push(s1.load(id));
        if (round === 2 && i === 1) ops.push(s1.close(id, 'resolved'));
        if (round === 3 && i === 2) ops.push(s1.escalate(id, { summary: 'refund', by: 'model' }));
        if (round === 4) ops.push(s1.addNote(id, { author: 'model', text: `note ${round}` }));
        if (round === 1 && i === 3) ops.push(s1.setState(id, 'escalated'));
        if (round === 5 && i === 0)
          ops.push(
            s1.append(id, [user('kept?'), user('refuse me')]).then(
              () => {
                throw new Error('the refused append resolved');
              },
              (err: Error) => expect(err.message).toMatch(/refused/),
            ),
          );
      }
    await Promise.all(ops);
    await s1.append('t0', [user('after the refused one')]);
    // Then one at a time, each write on a cached conversation.
    for (const id of ids) {
      await s1.load(id);
      await s1.addNote(id, { author: 'agent', text: 'seen' });
      await s1.load(id);
      await s1.append(id, [user(`${id} last`)]);
    }
    const before = await Promise.all(ids.map((id) => s1.load(id)));
    expect(before[0]?.messages).toHaveLength(6 * 3 + 2);
    expect(before[0]?.messages.map((m) => (m.content[0] as { text: string }).text)).not.toContain('kept?');
    expect(before[1]).toMatchObject({
      closed: { reason: 'resolved' },
      ticket: { state: 'closed', replies: 6 },
    });
    expect(before[2]?.ticket).toMatchObject({ state: 'escalated', escalation: { summary: 'refund' } });
    expect(before[3]?.ticket?.state).toBe('escalated');
    for (const rec of before) expect(rec?.ticket?.notes).toHaveLength(2);
    await s1.dispose();
    // The cache does not outlive the store: a new store on the folder reads the database.
    const s2 = await openStore(dir);
    try {
      expect(await Promise.all(ids.map((id) => s2.load(id)))).toEqual(before);
      const list = await s2.list();
      for (const rec of before)
        expect(list.find((c) => c.id === rec!.id)?.messageCount).toBe(rec!.messages.length);
    } finally {
      await s2.dispose?.();
    }
  }, 120_000);

  it('one open per process: a second open of the same folder is refused until the first store is closed', async () => {
    const dir = join(tempDir(), 'twice');
    const s1 = await openStore(dir);
    await expect(openStore(dir)).rejects.toThrow(/already open in this process/);
    await s1.append('x', [user('one')]);
    await s1.dispose?.();
    const s2 = await openStore(dir);
    expect((await s2.load('x'))?.messages).toEqual([user('one')]);
    await s2.dispose?.();
  }, 60_000);
});

describe('SQL store: migrations, locking, errors', () => {
  it('splits migrations at statement ends but not inside $$ bodies', () => {
    expect(
      migrationStatements(
        'CREATE TABLE a (x int);\nCREATE FUNCTION f() AS $$\nBEGIN x;\ny;\nEND\n$$;\nSELECT 1;\n',
      ),
    ).toEqual(['CREATE TABLE a (x int)', 'CREATE FUNCTION f() AS $$\nBEGIN x;\ny;\nEND\n$$', 'SELECT 1']);
  });

  it('a store written by schema version 2 (jsonb bodies) migrates to 3 and keeps its messages', async () => {
    const dir = join(tempDir(), 'v2');
    const d = await pgliteDriver(dir);
    expect(
      await migrate(
        d,
        MIGRATIONS.filter((m) => m.version <= 2),
      ),
    ).toEqual([1, 2]);
    await d.query(`INSERT INTO conversations (id, message_count) VALUES ('old', 2)`);
    await d.query(`INSERT INTO tickets (conversation_id, replies, state) VALUES ('old', 1, 'waiting')`);
    await d.query(
      `INSERT INTO messages (conversation_id, seq, role, channel, body) VALUES ('old', 0, 'user', NULL, $1),
         ('old', 1, 'assistant', 'final', $2)`,
      [JSON.stringify(user('before the upgrade')), JSON.stringify(final('old answer'))],
    );
    await d.close();
    const s = await openStore(dir);
    try {
      await s.append('old', [user('after the upgrade')]);
      const rec = await s.load('old');
      expect(rec?.messages).toEqual([
        user('before the upgrade'),
        final('old answer'),
        user('after the upgrade'),
      ]);
      expect(rec?.ticket).toMatchObject({ state: 'open', replies: 1 });
    } finally {
      await s.dispose?.();
    }
  }, 60_000);

  it('migrations are versioned and run once; one process per embedded store; a newer schema is refused', async () => {
    const dir = join(tempDir(), 'm');
    const d1 = await pgliteDriver(dir);
    const s1 = await new SqlConversationStore(d1).init();
    const rows = await d1.query('SELECT version FROM harmonia_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await d1.query('INSERT INTO harmonia_migrations (version, name) VALUES (999, $1)', ['from the future']);
    await s1.dispose();
    // Another live process holds the folder: refused before the database is touched.
    const pidFile = JSON.stringify(join(dir, 'harmonia.pid'));
    const other = spawn(process.execPath, [
      '-e',
      `require('fs').writeFileSync(${pidFile}, String(process.pid)); setTimeout(() => {}, 20000)`,
    ]);
    // Wait until the other process holds the lock (node starts slowly on a busy machine).
    for (let i = 0; i < 400 && !existsSync(join(dir, 'harmonia.pid')); i++)
      await new Promise((r) => setTimeout(r, 50));
    await expect(openStore(dir)).rejects.toThrow(/in use by process \d+.*PostgreSQL/);
    other.kill();
    await new Promise((r) => other.once('exit', r));
    // The owner is gone: the stale lock is taken over, and the schema from the future is refused.
    await expect(openStore(dir)).rejects.toBeInstanceOf(StoreSchemaError);
    await expect(openStore('redis://x')).rejects.toBeInstanceOf(StoreOpenError);
    await expect(openStore('postgres://nobody@127.0.0.1:1/x')).rejects.toThrow(
      /cannot connect to PostgreSQL/,
    );
  }, 120_000);
});

// Plain JavaScript against the built package: a bot process starts in a fraction of tsx's time.
const child = fileURLToPath(new URL('./turn-child.mjs', import.meta.url));
const exec = promisify(execFile);
async function turn(spec: string, conv: string, text: string) {
  const { stdout } = await exec(process.execPath, [child, spec, conv, text], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    status: string;
    text: string;
    prompt: string;
    stop?: { by: string };
  };
}

const restartKinds: { name: string; skip?: string; spec: () => Promise<string> }[] = [
  { name: 'embedded', spec: async () => join(tempDir(), 'restart') },
  { name: 'postgres', ...(noPg ? { skip: noPg } : {}), spec: freshPgUrl },
];
for (const kind of restartKinds) {
  describe.skipIf(kind.skip)(`restart persistence: ${kind.name}`, () => {
    it('conversation, reply cap and closed state survive process restarts; a killed turn keeps its message', async () => {
      const spec = await kind.spec();
      const first = await turn(spec, 'ticket-1', 'where is my order');
      expect(first.status).toBe('completed');
      const second = await turn(spec, 'ticket-1', 'still waiting');
      expect(second.status).toBe('completed');
      // The second process saw the first one's conversation.
      expect(second.prompt).toContain('where is my order');
      expect(second.prompt).toContain('answer to where is my order');
      // Cap of 2 replies: the third process refuses without a model call and closes the ticket...
      const third = await turn(spec, 'ticket-1', 'hello?');
      expect(third.status).toBe('capped');
      expect(third.prompt).toBe('');

      // A process killed mid-turn: the user's message was stored before the model call.
      const p = spawn(process.execPath, [child, spec, 'ticket-2', 'my question', 'hang']);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('child never reached the model call')), 30_000);
        p.stdout.on('data', (b: Buffer) => {
          if (b.toString().includes('hanging')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
      const s = await openStore(spec);
      try {
        // ...and this process sees ticket-1 closed: no model call.
        const backend = new ScriptedBackend([]);
        const agent = new Agent({
          instructions: 'x',
          backend,
          store: s,
          replyCap: 2,
          currentDate: '2026-01-15',
        });
        expect((await run(agent, 'anyone?', { conversationId: 'ticket-1' })).status).toBe('closed');
        expect(backend.calls).toBe(0);
        const rec = await s.load('ticket-2');
        expect(rec?.messages.map((m) => (m.content[0] as { text: string }).text)).toEqual(['my question']);
        expect((await s.load('ticket-1'))?.ticket).toMatchObject({ state: 'closed', replies: 2 });
      } finally {
        await s.dispose?.();
      }
    }, 120_000);
  });
}
