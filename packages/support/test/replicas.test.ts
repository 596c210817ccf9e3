import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ConversationStore, openStore } from '@harmonia/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgServer, pgUnavailable, startPgServer } from '../../core/test/store/pg-server.js';

const noPg = pgUnavailable();
if (noPg && process.env.CI) throw new Error(`CI needs PostgreSQL for the replicas test: ${noPg}`);
const child = fileURLToPath(new URL('./replica-child.mjs', import.meta.url));

interface Line {
  replica: string;
  posted?: string;
  messageId?: string;
  conversationId?: string;
  call?: boolean;
  conv?: string;
  start?: number;
  end?: number;
  done?: boolean;
}

function replica(url: string, name: string, input: string): Promise<Line[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, url, name], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    p.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`replica ${name} exited ${code}: ${err.slice(-2000)}`));
      resolve(
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Line),
      );
    });
    p.stdin.end(input);
  });
}

describe.skipIf(noPg)('two bot replicas on one PostgreSQL', () => {
  let pg: PgServer;
  beforeAll(async () => {
    pg = await startPgServer();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  });

  it('50 concurrent messages delivered to both: each answered once, turns of a conversation never interleave', async () => {
    // Migrations first, so the replicas start on a ready schema (they would also serialise on the migration lock).
    const setup: ConversationStore = await openStore(pg.url);
    await setup.dispose?.();
    const CONVS = 10;
    const PER = 5;
    const messages = [];
    for (let q = 0; q < PER; q++)
      for (let c = 0; c < CONVS; c++)
        messages.push({ conversationId: `c${c}`, messageId: `m-${c}-${q}`, text: `conv=c${c} q${q}` });
    const input = `${messages.map((m) => JSON.stringify(m)).join('\n')}\n`;
    const [a, b] = await Promise.all([replica(pg.url, 'a', input), replica(pg.url, 'b', input)]);
    const lines = [...a!, ...b!];
    expect(lines.filter((l) => l.done)).toHaveLength(2);

    // Exactly one answer per message, across both replicas; both replicas did work.
    const posts = lines.filter((l) => l.posted !== undefined);
    const byMessage = new Map<string, Line[]>();
    for (const p of posts) byMessage.set(p.messageId!, [...(byMessage.get(p.messageId!) ?? []), p]);
    expect(byMessage.size).toBe(CONVS * PER);
    for (const [id, ps] of byMessage) expect(ps, id).toHaveLength(1);
    expect(new Set(posts.map((p) => p.replica))).toEqual(new Set(['a', 'b']));
    for (const p of posts) expect(p.posted).toMatch(/^answer to conv=c\d+ q\d after \d+$/);

    // Model calls of one conversation never overlap in time, whichever replica made them.
    const calls = lines.filter((l) => l.call);
    expect(calls).toHaveLength(CONVS * PER);
    for (let c = 0; c < CONVS; c++) {
      const mine = calls.filter((l) => l.conv === `c${c}`).sort((x, y) => x.start! - y.start!);
      expect(mine).toHaveLength(PER);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.start!).toBeGreaterThanOrEqual(mine[i - 1]!.end!);
    }

    // The stored conversations: user/answer pairs in order, each answer made after seeing every earlier one.
    const store = await openStore(pg.url);
    try {
      for (let c = 0; c < CONVS; c++) {
        const rec = await store.load(`c${c}`);
        const msgs = rec!.messages.filter((m) => m.role === 'user' || m.channel === 'final');
        expect(msgs).toHaveLength(PER * 2);
        for (let i = 0; i < msgs.length; i += 2) {
          expect(msgs[i]!.role).toBe('user');
          const q = (msgs[i]!.content[0] as { text: string }).text;
          const ans = (msgs[i + 1]!.content[0] as { text: string }).text;
          expect(ans).toBe(`answer to ${q} after ${i / 2}`);
        }
        expect(rec!.ticket?.replies).toBe(PER);
      }
      expect((await store.usage!()).runs).toBe(CONVS * PER);
    } finally {
      await store.dispose?.();
    }
  }, 180_000);
});
