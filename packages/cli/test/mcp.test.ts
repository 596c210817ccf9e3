/**
 * MCP from the command line: `harmonia mcp serve` used by the official MCP client (stdio child process and
 * streamable HTTP, real Docker python sandbox), and `harmonia run --mcp` calling a real MCP server's tool.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { harmonyScript as H } from '@harmonia/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryIO } from '../src/command.js';
import { startMcpHttp } from '../src/commands/mcp.js';
import { main } from '../src/main.js';
import '../src/wiring.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const kbFixture = fileURLToPath(new URL('../../core/test/fixtures/mcp-kb-server.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'harmonia-mcp-'));

const text = (r: unknown) =>
  ((r as CallToolResult).content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('');

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

describe('harmonia mcp serve', () => {
  it('stdio: the official MCP client lists the python tool and runs code in one stateful kernel', async () => {
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [bin, 'mcp', 'serve', '--tools', 'python'],
        stderr: 'ignore',
      }),
    );
    cleanup.push(() => client.close());
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['python']);
    expect(tools[0]?.inputSchema.required).toEqual(['code']);
    expect(tools[0]?.description).toContain('stateful');
    await client.callTool({ name: 'python', arguments: { code: 'x = 20' } }, undefined, { timeout: 120_000 });
    const r = await client.callTool({ name: 'python', arguments: { code: 'print(x * 2 + 2)' } }, undefined, {
      timeout: 120_000,
    });
    expect(text(r).trim()).toBe('42');
    const bad = await client.callTool({ name: 'nope', arguments: {} });
    expect(bad.isError).toBe(true);
  }, 120_000);

  it('streamable HTTP: python and browser tools; each MCP session has its own kernel', async () => {
    const t = memoryIO();
    const running = await startMcpHttp(['--tools', 'python,browser', '--http', '0'], t.io);
    cleanup.push(() => running.close());
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const connect = async () => {
      const c = new Client({ name: 'test', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(new URL(running.url)));
      cleanup.push(() => c.close());
      return c;
    };
    const a = await connect();
    const b = await connect();
    const names = (await a.listTools()).tools.map((x) => x.name).sort();
    expect(names).toEqual(['find', 'open', 'python', 'search']);
    const opts = { timeout: 120_000 };
    await a.callTool({ name: 'python', arguments: { code: 'y = "from a"' } }, undefined, opts);
    expect(
      text(await a.callTool({ name: 'python', arguments: { code: 'print(y)' } }, undefined, opts)),
    ).toContain('from a');
    expect(
      text(await b.callTool({ name: 'python', arguments: { code: 'print(y)' } }, undefined, opts)),
    ).toContain('NameError');
  }, 120_000);
});

describe('harmonia run --mcp', () => {
  it("calls a real MCP server's tool while reasoning and answers", async () => {
    const script = join(dir, 'script.json');
    writeFileSync(
      script,
      JSON.stringify([
        H.analysis('Look in the FAQ.') +
          H.callAfterChannel('kb.lookup_faq', '{"question":"refund?"}', 'analysis'),
        H.final('Refunds take 5 days.'),
      ]),
    );
    const events = join(dir, 'events.jsonl');
    const t = memoryIO();
    const code = await main(
      [
        'run',
        '--backend',
        `script:${script}`,
        '--mcp',
        `kb=stdio:${process.execPath} ${kbFixture}`,
        '--input',
        'How long do refunds take?',
        '--events',
        events,
      ],
      t.io,
    );
    expect(t.stderr()).toBe('');
    expect(code).toBe(0);
    expect(t.stdout()).toBe('Refunds take 5 days.\n');
    const finished = readFileSync(events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'tool_call_finished');
    expect(finished).toMatchObject({ recipient: 'kb.lookup_faq', output: 'Refunds take 5 days.' });
  });

  it('a malformed --mcp is a usage error', async () => {
    const t = memoryIO();
    expect(await main(['run', '--backend', 'script:x.json', '--mcp', 'kb', '--input', 'x'], t.io)).toBe(2);
    expect(t.stderr()).toContain("harmonia run: --mcp 'kb': expected NAME=stdio:COMMAND");
  });
});

describe('harmonia start --mcp', () => {
  it("the support bot calls an MCP server's tool next to faq.search", async () => {
    const docs = join(dir, 'docs');
    mkdirSync(docs, { recursive: true });
    writeFileSync(
      join(docs, 'returns.md'),
      '# Returns\n\nKestrel thermostats can be returned within 60 days.\n',
    );
    const script = join(dir, 'start-script.json');
    writeFileSync(
      script,
      JSON.stringify([
        H.analysis('Refund timing: ask the kb.') +
          H.callAfterChannel('kb.lookup_faq', '{"question":"refund"}', 'analysis'),
        H.final('Refunds for a Kestrel thermostat take 5 days.'),
      ]),
    );
    const t = memoryIO('How long does a Kestrel thermostat refund take?\n');
    process.env.HARMONIA_FAQ_EMBEDDER = 'hashing';
    const code = await main(
      [
        'start',
        '--store',
        'memory',
        '--backend',
        `script:${script}`,
        '--docs',
        docs,
        '--product',
        'Kestrel',
        '--db',
        join(dir, 'db'),
        '--embedder',
        'hashing',
        // The scripted answer is not in the docs; this test is about MCP, not the on-task monitor.
        '--monitor',
        'keyword',
        '--mcp',
        `kb=stdio:${process.execPath} ${kbFixture} --log ${join(dir, 'kb.log')}`,
      ],
      t.io,
    );
    expect(code).toBe(0);
    expect(t.stdout()).toContain('Refunds for a Kestrel thermostat take 5 days.');
    expect(readFileSync(join(dir, 'kb.log'), 'utf8')).toBe('refund\n');
  }, 60_000);
});
