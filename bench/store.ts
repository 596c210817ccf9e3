/**
 * Conversation store benchmark: one bot turn's store work — append the user message and the answer, then load the
 * whole 50-message conversation — on the in-memory store (peer), the embedded store (PGlite, file-backed) and a
 * PostgreSQL server on loopback (started here from the machine's PostgreSQL binaries, as the tests do).
 * The embedded store is measured twice: as a running bot uses it (its conversations cached in memory), and
 * reopened, as after a restart, where every op is the first touch of its conversation (the load reads the
 * database).
 * Run from the repo root after `pnpm -s build`:
 *   node --import tsx bench/store.ts [--ops 200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConversationStore, InMemoryConversationStore, type Message, openStore } from '@harmonia/core';
import { findPgBin, startPgServer } from '../packages/core/test/store/pg-server.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const OPS = arg('ops', 200);
const PRELOAD = 48;

const text = (i: number) =>
  `Message ${i}: ${'How do I point the Discord bot at my own Ollama server and keep conversations across deploys? '.repeat(3)}`;
const user = (i: number): Message => ({ role: 'user', content: [{ type: 'text', text: text(i) }] });
const final = (i: number): Message => ({
  role: 'assistant',
  channel: 'final',
  content: [{ type: 'text', text: text(i) }],
});

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};

interface Row {
  name: string;
  p50: number;
  p99: number;
  /** This process's CPU time per op (user + system): what the op costs without waiting for a busy CPU. */
  cpu50: number;
  cpu99: number;
}

/** Writes `prefix-0…OPS-1`, 48 messages each, and warm-up conversations. */
async function preload(store: ConversationStore, prefix: string): Promise<void> {
  for (let c = 0; c < OPS; c++) {
    const msgs: Message[] = [];
    for (let i = 0; i < PRELOAD; i += 2) msgs.push(user(i), final(i + 1));
    await store.append(`${prefix}-${c}`, msgs);
  }
}

/** Each op appends the 49th and 50th messages of a conversation written by `preload` and loads all 50. */
async function measure(name: string, store: ConversationStore, prefix: string): Promise<Row> {
  // Warm-up on separate conversations.
  for (let w = 0; w < 20; w++) {
    await store.append(`warm-${prefix}-${w}`, [user(0), final(1)]);
    await store.load(`warm-${prefix}-${w}`);
  }
  const times: number[] = [];
  const cpu: number[] = [];
  for (let c = 0; c < OPS; c++) {
    const t = performance.now();
    const u = process.cpuUsage();
    await store.append(`${prefix}-${c}`, [user(PRELOAD), final(PRELOAD + 1)]);
    const rec = await store.load(`${prefix}-${c}`);
    times.push(performance.now() - t);
    const d = process.cpuUsage(u);
    cpu.push((d.user + d.system) / 1000);
    if (rec?.messages.length !== PRELOAD + 2)
      throw new Error(`${name}: loaded ${rec?.messages.length} messages`);
  }
  return { name, p50: pct(times, 50), p99: pct(times, 99), cpu50: pct(cpu, 50), cpu99: pct(cpu, 99) };
}

const rows: Row[] = [];
const memory = new InMemoryConversationStore();
await preload(memory, 'bench');
rows.push(await measure('in-memory (peer)', memory, 'bench'));

const dir = mkdtempSync(join(tmpdir(), 'harmonia-bench-store-'));
try {
  const embedded = await openStore(join(dir, 'store'));
  await preload(embedded, 'bench');
  await preload(embedded, 'cold');
  rows.push(await measure('embedded (PGlite, file)', embedded, 'bench'));
  await embedded.dispose?.();
  const reopened = await openStore(join(dir, 'store'));
  rows.push(await measure('embedded, reopened (first touch: load from the database)', reopened, 'cold'));
  await reopened.dispose?.();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (findPgBin()) {
  const pg = await startPgServer();
  try {
    const store = await openStore(pg.url);
    await preload(store, 'bench');
    rows.push(await measure('PostgreSQL (loopback)', store, 'bench'));
    await store.dispose?.();
  } finally {
    await pg.stop();
  }
} else console.log('PostgreSQL binaries not found: skipping the server row');

const peer = rows[0]!;
console.log(`append 2 + load 50 messages, ${OPS} ops each\n`);
const os = await import('node:os');
console.log(`(1-minute load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs)\n`);
console.log('| store | p50 | p99 | p99 vs in-memory | CPU p50 | CPU p99 |');
console.log('| --- | --- | --- | --- | --- | --- |');
const f = (x: number) => `${x.toFixed(3)} ms`;
for (const r of rows)
  console.log(
    `| ${r.name} | ${f(r.p50)} | ${f(r.p99)} | ${(r.p99 / peer.p99).toFixed(1)}× | ${f(r.cpu50)} | ${f(r.cpu99)} |`,
  );
