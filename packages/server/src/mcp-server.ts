/**
 * Harmonia tool namespaces (python, browser, or any other) served over MCP with the official SDK, so any MCP
 * client can use them: stdio, or streamable HTTP with one session per client. Each MCP session is one
 * conversation for the tools: its own python kernel (state kept between calls), its own browser context.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import {
  ToolCallError,
  type ToolDescription,
  type ToolNamespace,
  type ToolNamespaceConfig,
} from '@harmonia/core';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  isInitializeRequest,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';

interface Exposed {
  tool: Tool;
  ns: ToolNamespace;
  /** The function inside the namespace; undefined for a whole-namespace tool (python). */
  fn: string | undefined;
}

const CODE_SCHEMA = {
  type: 'object' as const,
  properties: { code: { type: 'string', description: 'Python code to run in the stateful session.' } },
  required: ['code'],
};

/** MCP tools for the namespaces: `python` (code in, output out), the browser's `search`, `open`, `find`. */
export function exposedTools(namespaces: readonly ToolNamespace[]): Exposed[] {
  const out: Exposed[] = [];
  const names = new Set<string>();
  type Entry = {
    ns: ToolNamespace;
    fn: string | undefined;
    t: ToolDescription | undefined;
    cfg: ToolNamespaceConfig;
  };
  const all = namespaces.flatMap((ns): Entry[] => {
    const cfg = ns.config();
    return cfg.tools.length
      ? cfg.tools.map((t) => ({ ns, fn: t.name as string | undefined, t, cfg }))
      : [{ ns, fn: undefined, t: undefined, cfg }];
  });
  const clash = (n: string) => all.filter((a) => (a.fn ?? a.ns.name) === n).length > 1;
  for (const { ns, fn, t, cfg } of all) {
    const plain = fn ?? ns.name;
    const name = clash(plain) ? `${ns.name}_${plain}` : plain;
    if (names.has(name)) continue;
    names.add(name);
    const tool: Tool = t
      ? {
          name,
          description: [t.description, cfg.description].filter(Boolean).join('\n\n'),
          inputSchema: {
            type: 'object',
            ...((t.parameters as Record<string, unknown> | null | undefined) ?? { properties: {} }),
          } as Tool['inputSchema'],
        }
      : { name, description: cfg.description ?? name, inputSchema: CODE_SCHEMA };
    out.push({ tool, ns, fn });
  }
  return out;
}

/** One MCP server (protocol state) for one session over the given namespaces. */
export function toolMcpServer(namespaces: readonly ToolNamespace[], session: string): Server {
  const tools = exposedTools(namespaces);
  const server = new Server({ name: 'harmonia-tools', version: '0.1.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: tools.map((t) => t.tool) }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const found = tools.find((t) => t.tool.name === req.params.name);
    if (!found) {
      return {
        isError: true,
        content: [
          {
            type: 'text',
            text: `Unknown tool '${req.params.name}'. Available: ${tools.map((t) => t.tool.name).join(', ')}.`,
          },
        ],
      };
    }
    const args = req.params.arguments ?? {};
    const raw = found.fn === undefined ? String(args.code ?? '') : JSON.stringify(args);
    try {
      const out = await found.ns.call(found.fn, raw, {
        conversationId: session,
        signal: extra.signal,
        channel: 'analysis',
      });
      return { content: [{ type: 'text', text: out.text }] };
    } catch (err) {
      if (err instanceof ToolCallError)
        return { isError: true, content: [{ type: 'text', text: err.message }] };
      throw err;
    }
  });
  return server;
}

/** Frees one session's tool state (python kernel, browser context). */
async function endSession(namespaces: readonly ToolNamespace[], session: string): Promise<void> {
  for (const ns of namespaces) await ns.disposeConversation?.(session).catch(() => {});
}

/** Serves the namespaces on stdio (one session); resolves when the client closes the connection. */
export async function serveMcpStdio(
  namespaces: readonly ToolNamespace[],
  streams: { stdin?: Readable; stdout?: Writable } = {},
): Promise<void> {
  const session = `mcp-${randomUUID()}`;
  const server = toolMcpServer(namespaces, session);
  const transport = new StdioServerTransport(streams.stdin, streams.stdout);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    (streams.stdin ?? process.stdin).once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => {});
  await endSession(namespaces, session);
}

export interface McpHttpHandle {
  /** The MCP endpoint, `http://HOST:PORT/mcp`. */
  url: string;
  http: HttpServer;
  /** Open sessions (each with its own tool state). */
  sessions(): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(c as Buffer);
  }
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
}

function rpcError(res: import('node:http').ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/** Serves the namespaces over streamable HTTP at `/mcp`, one stateful session per client. */
export async function serveMcpHttp(
  namespaces: readonly ToolNamespace[],
  { port = 0, host = '127.0.0.1' }: { port?: number; host?: string } = {},
): Promise<McpHttpHandle> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const http = createServer(async (req, res) => {
    try {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp') {
        rpcError(res, 404, 'Not found: the MCP endpoint is /mcp');
        return;
      }
      const body = req.method === 'POST' ? await readBody(req) : undefined;
      const sid = req.headers['mcp-session-id'];
      let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
      if (!transport) {
        if (req.method !== 'POST' || !isInitializeRequest(body)) {
          rpcError(res, typeof sid === 'string' ? 404 : 400, 'No valid session: send initialize first');
          return;
        }
        const session = `mcp-${randomUUID()}`;
        const t = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => session,
          onsessioninitialized: (id) => {
            transports.set(id, t);
          },
        });
        t.onclose = () => {
          transports.delete(session);
          void endSession(namespaces, session);
        };
        transport = t;
        await toolMcpServer(namespaces, session).connect(t);
      }
      await transport.handleRequest(req, res, body);
    } catch (err) {
      if (!res.headersSent) rpcError(res, 400, (err as Error).message);
      else res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => resolve());
  });
  const a = http.address() as AddressInfo;
  const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${h}:${a.port}/mcp`,
    http,
    sessions: () => transports.size,
    async close() {
      for (const t of [...transports.values()]) await t.close().catch(() => {});
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
