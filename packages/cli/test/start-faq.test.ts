// The `harmonia faq` and `harmonia start` commands, run in-process against the bundled docs.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { harmonyScript } from '@harmonia/core';
import { afterAll, describe, expect, it } from 'vitest';
import { faqCommand } from '../src/commands/faq.js';
import { startCommand } from '../src/commands/start.js';

function io(input = '') {
  const out = new PassThrough();
  const err = new PassThrough();
  const stdin = new PassThrough();
  stdin.end(input);
  let o = '';
  let e = '';
  out.on('data', (c) => (o += c));
  err.on('data', (c) => (e += c));
  return { io: { stdout: out, stderr: err, stdin }, out: () => o, err: () => e };
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

const H = harmonyScript;

async function tempDir(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), `harmonia-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

describe('harmonia faq', () => {
  it('eval prints one line per mode in the documented format', async () => {
    const t = io();
    expect(await faqCommand.run(['eval', '--embedder', 'hashing'], t.io)).toBe(0);
    const lines = t.out().trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['vector', 'fulltext', 'hybrid', 'hybrid-rrf']);
    for (const l of lines) expect(l).toMatch(/^[a-z-]+ recall@5 [01]\.\d\d mrr [01]\.\d\d$/);
  });

  it('index reports what changed and what was skipped, and re-indexing is incremental', async () => {
    const docs = await tempDir('cli-docs');
    const db = await tempDir('cli-db');
    cleanups.push(docs.cleanup, db.cleanup);
    await writeFile(join(docs.dir, 'a.md'), '# A\n\nalpha\n');
    await mkdir(join(docs.dir, 'sub'));
    await writeFile(join(docs.dir, 'sub', 'bin.txt'), Buffer.from([1, 0, 2]));
    const args = ['index', docs.dir, '--db', db.dir, '--embedder', 'hashing'];
    const first = io();
    expect(await faqCommand.run(args, first.io)).toBe(0);
    expect(first.out()).toBe(
      'index: 1 entry from 1 file\nfiles: 1 added, 0 updated, 0 unchanged, 0 removed\nskipped sub/bin.txt: looks binary (contains NUL bytes)\n',
    );
    const second = io();
    await faqCommand.run(args, second.io);
    expect(second.out().split('\n').slice(0, 2)).toEqual([
      'index: 1 entry from 1 file',
      'files: 0 added, 0 updated, 1 unchanged, 0 removed',
    ]);
    await expect(faqCommand.run(['index'], io().io)).rejects.toThrow(/exactly one DIR/);
    await expect(faqCommand.run(['index', 'x', '--nope'], io().io)).rejects.toThrow(/Unknown option/);
  });

  it('ask answers with a script backend and lists the cited entries', async () => {
    const dir = await tempDir('cli-ask');
    cleanups.push(dir.cleanup);
    const script = join(dir.dir, 'script.json');
    await writeFile(
      script,
      JSON.stringify([
        H.analysis('search') + H.call('faq.search', '{"query":"python tool timeout"}', 'analysis'),
        H.analysis('found') + H.final('Calls are interrupted after 120 seconds [faq:python-tool.md#3].'),
      ]),
    );
    const t = io();
    const code = await faqCommand.run(
      [
        'ask',
        'How long can Python code run?',
        '--backend',
        `script:${script}`,
        '--db',
        join(dir.dir, 'db'),
        '--embedder',
        'hashing',
      ],
      t.io,
    );
    expect(t.err()).toBe('');
    expect(code).toBe(0);
    expect(t.out()).toBe(
      'Calls are interrupted after 120 seconds [faq:python-tool.md#3].\n  [faq:python-tool.md#3] The Python tool › Timeouts\n',
    );
  });
});

describe('harmonia start', () => {
  it('says exactly what to run when no backend is configured or reachable', async () => {
    const saved = process.env.HARMONIA_BACKEND;
    delete process.env.HARMONIA_BACKEND;
    // The default local ports are replaced by one nothing listens on (this machine may run servers).
    process.env.HARMONIA_LOCAL_SERVERS = `http://127.0.0.1:${await freePort()}`;
    try {
      const t = io();
      expect(await startCommand.run([], t.io)).toBe(1);
      expect(t.err()).toContain('No model server answered');
      for (const cmd of [
        'ollama pull gpt-oss:20b',
        'vllm serve openai/gpt-oss-20b',
        'harmonia start --backend script:',
        'harmonia engine synth --out /tmp/tiny',
      ])
        expect(t.err()).toContain(cmd);
      const port = await freePort();
      const down = io();
      expect(await startCommand.run(['--backend', `http://127.0.0.1:${port}`], down.io)).toBe(1);
      expect(down.err()).toContain(`Nothing answers at http://127.0.0.1:${port} (ECONNREFUSED)`);
    } finally {
      if (saved !== undefined) process.env.HARMONIA_BACKEND = saved;
      delete process.env.HARMONIA_LOCAL_SERVERS;
    }
  });

  it('runs the support agent in the terminal: streamed answers with citations, /reset, /exit', async () => {
    const dir = await tempDir('cli-start');
    cleanups.push(dir.cleanup);
    const script = join(dir.dir, 'script.json');
    await writeFile(
      script,
      JSON.stringify([
        H.analysis('SECRET plan') +
          H.final('Use `harmonia doctor`. It checks the backend [faq:troubleshooting.md#3].'),
        H.analysis('new conversation') + H.final('Hello again.'),
      ]),
    );
    const t = io('why do I get connection refused?\n/reset\nhi\n/exit\nnever read\n');
    const code = await startCommand.run(
      [
        '--store',
        'memory',
        '--backend',
        `script:${script}`,
        '--db',
        join(dir.dir, 'db'),
        '--embedder',
        'hashing',
      ],
      t.io,
    );
    expect(code).toBe(0);
    // Piped stdin: no prompts, one complete answer per question, then its citations.
    expect(t.out()).toBe(
      'Use `harmonia doctor`. It checks the backend [faq:troubleshooting.md#3].\n' +
        '  [faq:troubleshooting.md#3] Troubleshooting › Connection refused\n' +
        'Hello again.\n',
    );
    expect(t.out()).not.toContain('SECRET');
  });
});

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
