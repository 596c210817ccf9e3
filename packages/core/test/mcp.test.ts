/**
 * MCP servers made with the official SDK (stdio child process and streamable HTTP) as agent tool namespaces.
 * The model is scripted; the tests check the rendered tool signatures and that a call made while reasoning
 * reaches the server and comes back on the analysis channel.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  McpError,
  McpNamespace,
  parseMcpSpec,
  run,
  runStream,
  ScriptedBackend,
} from '../src/index.js';
// @ts-expect-error: a plain JS fixture (also run as a child process)
import { buildKbServer } from './fixtures/mcp-kb-server.mjs';
import { H } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/mcp-kb-server.mjs', import.meta.url));

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
}

/** The SDK's stateful streamable HTTP pattern: one transport (and server) per MCP session. */
async function httpKbServer(): Promise<{ server: Server; url: string }> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const server = createServer(async (req, res) => {
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const sid = req.headers['mcp-session-id'];
    let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
    if (!transport) {
      if (req.method !== 'POST' || !isInitializeRequest(body)) {
        res.writeHead(400).end();
        return;
      }
      const t = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          transports.set(id, t);
        },
      });
      transport = t;
      await buildKbServer().connect(t);
    }
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp` };
}

const toolReply = (recipient: string, channel: string, text: string) =>
  `<|start|>${recipient} to=assistant<|channel|>${channel}<|message|>${text}<|end|>`;

describe.each(['stdio', 'http'] as const)('MCP over %s', (kind) => {
  let http: { server: Server; url: string } | undefined;
  let kb: McpNamespace;
  beforeAll(async () => {
    if (kind === 'http') http = await httpKbServer();
    kb = new McpNamespace(
      kind === 'stdio'
        ? { name: 'kb', command: process.execPath, args: [fixture] }
        : { name: 'kb', url: http!.url },
    );
  });
  afterAll(async () => {
    await kb.dispose();
    http?.server.closeAllConnections();
    http?.server.close();
  });

  it('renders the tools in the developer message and runs a call made during reasoning', async () => {
    const backend = new ScriptedBackend([
      H.analysis('Check the FAQ first.') +
        H.callAfterChannel('kb.lookup_faq', '{"question":"How long do refunds take?"}', 'analysis'),
      H.final('Refunds take 5 days.'),
    ]);
    const agent = new Agent({ backend, mcp: [kb] });
    const events = [];
    for await (const ev of runStream(agent, 'refund time?')) events.push(ev);
    const done = events.at(-1);
    expect(done?.type === 'done' && done.result.finalText).toBe('Refunds take 5 days.');
    const p0 = backend.promptText(0);
    expect(p0).toContain('<|start|>developer<|message|># Tools\n\n## kb\n\n');
    expect(p0).toContain(
      '// Answer from the FAQ.\ntype lookup_faq = (_: {\n// The question\nquestion: string,\n}) => any;',
    );
    expect(p0).toContain('type add = (_: {\na: number,\nb: number,\n}) => any;');
    expect(backend.promptText(1)).toContain(toolReply('kb.lookup_faq', 'analysis', 'Refunds take 5 days.'));
    const started = events.find((e) => e.type === 'tool_call_started');
    expect(started).toMatchObject({ recipient: 'kb.lookup_faq', channel: 'analysis' });
  });

  it('returns structured content as JSON, and a tool error to the model as an error', async () => {
    const backend = new ScriptedBackend([
      `${H.call('kb.add', '{"a":2,"b":40}')}<|start|>assistant${H.call('kb.broken', '{}')}`,
      H.final('42'),
    ]);
    const r = await run(new Agent({ backend, mcp: [kb] }), 'sum');
    expect(r.finalText).toBe('42');
    const p1 = backend.promptText(1);
    expect(p1).toContain(toolReply('kb.add', 'commentary', '{"sum":42}'));
    expect(p1).toContain(toolReply('kb.broken', 'commentary', '{"error":"database offline"}'));
  });

  it("applies the runtime's per-call timeout and output cap, as for every tool", async () => {
    const backend = new ScriptedBackend([
      `${H.call('kb.slow', '{"ms":5000}')}<|start|>assistant${H.call('kb.long', '{"chars":5000}')}`,
      H.final('done'),
    ]);
    const agent = new Agent({ backend, mcp: [kb], toolTimeoutMs: 300, maxToolOutputChars: 1000 });
    const t0 = performance.now();
    const r = await run(agent, 'go');
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(r.finalText).toBe('done');
    const p1 = backend.promptText(1);
    expect(p1).toContain('{"error":"The tool kb.slow did not answer within 300 ms and was stopped.');
    expect(p1).toContain('[... output truncated: the tool returned 5000 characters;');
  });

  it('lists tools again when the server says its list changed', async () => {
    const before = kb.listVersion;
    const backend = new ScriptedBackend([H.call('kb.enable_extra', '{}'), H.final('ok'), H.final('seen')]);
    const agent = new Agent({ backend, mcp: [kb] });
    await run(agent, 'enable');
    await expect.poll(() => kb.listVersion, { timeout: 5000 }).toBeGreaterThan(before);
    await run(agent, 'again');
    expect(backend.promptText(2)).toContain('// An extra tool.\ntype extra = () => any;');
  });
});

describe('MCP configuration', () => {
  it('parses --mcp specs and rejects bad ones with a clear message', () => {
    expect(parseMcpSpec('kb=stdio:node "my server.js" --flag')).toEqual({
      name: 'kb',
      command: 'node',
      args: ['my server.js', '--flag'],
    });
    expect(parseMcpSpec('docs=http://127.0.0.1:3000/mcp')).toEqual({
      name: 'docs',
      url: 'http://127.0.0.1:3000/mcp',
    });
    expect(() => parseMcpSpec('stdio:node x')).toThrow(McpError);
    expect(() => parseMcpSpec('kb=ftp://x')).toThrow(/use kb=stdio:COMMAND/);
    expect(() => new McpNamespace({ name: 'python', url: 'http://127.0.0.1:1/mcp' })).toThrow(/not allowed/);
  });

  it('a server that cannot start fails the run with the reason', async () => {
    const agent = new Agent({
      backend: new ScriptedBackend([]),
      mcp: [
        { name: 'gone', command: process.execPath, args: ['-e', 'process.exit(3)'], connectTimeoutMs: 5000 },
      ],
    });
    await expect(run(agent, 'hi')).rejects.toThrow(/cannot use MCP server 'gone'/);
  });
});
