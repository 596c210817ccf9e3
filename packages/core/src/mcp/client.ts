/**
 * MCP servers as Harmony tool namespaces. An MCP server's tools become `NAME.tool` functions rendered in the
 * developer message like developer functions (their JSON Schemas go through the same TypeScript renderer), so
 * the model can call them from its reasoning too. Connection is lazy (on the first run, `prepare`), tools are
 * listed then and again when the server says its list changed.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { parseJsonArgs } from '../functions/define.js';
import type { JsonSchema, ToolDescription, ToolNamespaceConfig } from '../harmony/types.js';
import { ToolCallError, type ToolContext, type ToolNamespace, type ToolOutput } from '../tools/types.js';

/** A local MCP server started as a child process, spoken to over stdio. */
export interface McpStdioServer {
  /** The namespace the model addresses (`NAME.tool`): letters, digits, `_`. */
  name: string;
  command: string;
  args?: readonly string[];
  /** Added to the child's environment (the SDK's safe default environment otherwise). */
  env?: Record<string, string>;
  cwd?: string;
}

/** A remote MCP server over streamable HTTP. */
export interface McpHttpServer {
  name: string;
  url: string;
  headers?: Record<string, string>;
}

export type McpServerConfig = (McpStdioServer | McpHttpServer) & McpLimits;

export interface McpLimits {
  /**
   * Time for one tool call. Default: the agent's per-call limit for every tool (`toolTimeoutMs`); the model is
   * told when it ran out and the server gets a cancellation.
   */
  callTimeoutMs?: number;
  /** Time to connect and list tools (default 30 s). */
  connectTimeoutMs?: number;
  /**
   * Longest answer in characters, cut with a note. Default: none of its own; the agent's cap for every tool
   * (`maxToolOutputChars`) applies either way.
   */
  maxOutputChars?: number;
  /** Namespace description shown to the model; default names the server. */
  description?: string;
  /** The tools keep state (a REPL): identical calls are not refused as a loop. Default false. */
  stateful?: boolean;
}

export class McpError extends Error {
  override name = 'McpError';
}

const NAMESPACE = /^[A-Za-z0-9_]+$/;
const RESERVED = new Set(['functions', 'browser', 'python', 'assistant', 'all']);

/** A tool name the Harmony header carries unambiguously (no dots, spaces or slashes). */
const harmonyName = (name: string): string => name.replace(/[^A-Za-z0-9_]+/g, '_');

const isStdio = (c: McpServerConfig): c is McpStdioServer & McpLimits => 'command' in c;

/** Text of a tool result: text parts, then structured content when there is no text; binary parts named. */
export function mcpResultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const c of result.content ?? []) {
    if (c.type === 'text') parts.push(c.text);
    else if (c.type === 'resource') {
      const r = c.resource;
      parts.push(
        'text' in r && typeof r.text === 'string'
          ? r.text
          : `[resource ${r.uri} (${r.mimeType ?? 'binary'})]`,
      );
    } else if (c.type === 'resource_link') parts.push(`[resource ${c.uri}${c.name ? ` "${c.name}"` : ''}]`);
    else if (c.type === 'image' || c.type === 'audio') {
      parts.push(`[${c.type} ${c.mimeType}, ${Math.floor((c.data.length * 3) / 4)} bytes, not shown]`);
    }
  }
  if (!parts.length && result.structuredContent !== undefined) {
    return JSON.stringify(result.structuredContent);
  }
  return parts.join('\n');
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new McpError(`${what} took longer than ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * One MCP server as a tool namespace. Pass it in `Agent({ tools })`, or its config in `Agent({ mcp })`.
 * `dispose()` closes the connection (and stops a stdio server).
 */
export class McpNamespace implements ToolNamespace {
  readonly name: string;
  readonly placement = 'developer' as const;
  readonly stateful: boolean;
  /** Set only when the server config sets it; otherwise the runtime's per-call limit applies. */
  readonly callTimeoutMs?: number;
  private client: Client | undefined;
  private connecting: Promise<void> | undefined;
  private tools: Tool[] = [];
  /** Harmony name → MCP name. */
  private byName = new Map<string, Tool>();
  private cached: ToolNamespaceConfig | undefined;
  /** Bumped when the server's tool list changed (for tests and logs). */
  listVersion = 0;

  constructor(readonly server: McpServerConfig) {
    if (!NAMESPACE.test(server.name) || RESERVED.has(server.name)) {
      throw new McpError(
        `MCP server name '${server.name}' is not allowed: use letters, digits and '_' (not functions, browser or python); the model calls its tools as NAME.tool`,
      );
    }
    this.name = server.name;
    this.stateful = server.stateful ?? false;
  }

  private where(): string {
    const s = this.server;
    return isStdio(s) ? `stdio:${[s.command, ...(s.args ?? [])].join(' ')}` : s.url;
  }

  config(): ToolNamespaceConfig {
    this.cached ??= {
      name: this.name,
      description: this.server.description ?? `Tools of the MCP server '${this.name}'.`,
      tools: this.tools.map(
        (t): ToolDescription => ({
          name: harmonyName(t.name),
          description: t.description ?? t.title ?? '',
          // No properties: rendered as `() => any`, the form gpt-oss saw for argument-less tools.
          ...(Object.keys(t.inputSchema.properties ?? {}).length
            ? { parameters: t.inputSchema as JsonSchema }
            : {}),
        }),
      ),
    };
    return this.cached;
  }

  /** The MCP tools as listed (after `prepare`). */
  listedTools(): readonly Tool[] {
    return this.tools;
  }

  private setTools(tools: Tool[]): void {
    this.tools = tools;
    this.byName = new Map(tools.map((t) => [harmonyName(t.name), t]));
    this.cached = undefined;
    this.listVersion++;
  }

  private async listAll(client: Client): Promise<Tool[]> {
    const out: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      out.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  /** Connects and lists tools once; later calls return at once. */
  prepare(): Promise<void> {
    this.connecting ??= this.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw new McpError(
        `cannot use MCP server '${this.name}' (${this.where()}): ${(err as Error)?.message ?? String(err)}`,
      );
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const s = this.server;
    const client = new Client(
      { name: 'harmonia', version: '0.1.0' },
      {
        listChanged: {
          tools: {
            debounceMs: 50,
            onChanged: (err, tools) => {
              if (!err && tools) this.setTools(tools);
            },
          },
        },
      },
    );
    let transport: Transport;
    if (isStdio(s)) {
      transport = new StdioClientTransport({
        command: s.command,
        args: [...(s.args ?? [])],
        ...(s.env ? { env: { ...defaultEnv(), ...s.env } } : {}),
        ...(s.cwd ? { cwd: s.cwd } : {}),
        stderr: 'inherit',
      });
    } else {
      transport = new StreamableHTTPClientTransport(new URL(s.url), {
        ...(s.headers ? { requestInit: { headers: s.headers } } : {}),
      });
    }
    const ms = s.connectTimeoutMs ?? 30_000;
    try {
      await withTimeout(client.connect(transport), ms, 'connecting');
      this.setTools(await withTimeout(this.listAll(client), ms, 'listing tools'));
    } catch (err) {
      await client.close().catch(() => {});
      throw err;
    }
    this.client = client;
  }

  async call(fn: string | undefined, args: string, ctx: ToolContext): Promise<ToolOutput> {
    await this.prepare();
    const tool = fn === undefined ? undefined : this.byName.get(fn);
    if (!tool || !this.client) {
      const known = [...this.byName.keys()].map((k) => `${this.name}.${k}`).join(', ');
      throw new ToolCallError(
        `Unknown tool '${this.name}${fn === undefined ? '' : `.${fn}`}'. Available tools: ${known || '(none)'}.`,
      );
    }
    const parsed = parseJsonArgs(args);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ToolCallError(`Arguments for ${this.name}.${fn} must be one JSON object.`);
    }
    // The runtime stops the call at its deadline through ctx.signal (the SDK then cancels the request); the SDK's
    // own timeout (60 s by default) must not cut a longer limit short.
    const timeout = this.server.callTimeoutMs ?? 24 * 3600_000;
    let result: CallToolResult;
    try {
      result = (await this.client.callTool(
        { name: tool.name, arguments: parsed as Record<string, unknown> },
        undefined,
        {
          signal: ctx.signal,
          timeout,
        },
      )) as CallToolResult;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      const msg = (err as Error)?.message ?? String(err);
      // Timeouts and protocol errors are the model's to know about: it may retry or answer without the tool.
      throw new ToolCallError(
        /timed? ?out/i.test(msg)
          ? `${this.name}.${fn} did not answer within ${timeout / 1000} s.`
          : `${this.name}.${fn} failed: ${msg}`,
      );
    }
    let text = mcpResultText(result);
    const cap = this.server.maxOutputChars ?? Number.POSITIVE_INFINITY;
    if (text.length > cap) {
      text = `${text.slice(0, cap)}\n[output cut at ${cap} of ${text.length} characters]`;
    }
    if (result.isError) throw new ToolCallError(text || `${this.name}.${fn} reported an error`);
    return {
      text,
      meta: {
        mcpServer: this.name,
        mcpTool: tool.name,
        ...(result.structuredContent !== undefined ? { structuredContent: result.structuredContent } : {}),
      },
    };
  }

  async dispose(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.connecting = undefined;
    await c?.close();
  }
}

/** The child environment the SDK uses by default (PATH, HOME, …), so `env` adds to it instead of replacing it. */
function defaultEnv(): Record<string, string> {
  const keep = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER', 'LANG', 'TMPDIR'];
  const out: Record<string, string> = {};
  for (const k of keep) {
    const v = process.env[k];
    if (v !== undefined && !v.startsWith('()')) out[k] = v;
  }
  return out;
}

/** Connects to an MCP server now (fails fast with the reason) and returns its namespace. */
export async function connectMcp(server: McpServerConfig): Promise<McpNamespace> {
  const ns = new McpNamespace(server);
  await ns.prepare();
  return ns;
}

/**
 * Parses the command line form: `NAME=stdio:COMMAND ARGS…` or `NAME=http(s)://…`. Arguments are split on
 * spaces; quote one with '…' or "…" to keep its spaces.
 */
export function parseMcpSpec(spec: string): McpServerConfig {
  const eq = spec.indexOf('=');
  const name = eq > 0 ? spec.slice(0, eq) : '';
  const target = spec.slice(eq + 1).trim();
  if (!name || !NAMESPACE.test(name)) {
    throw new McpError(
      `--mcp '${spec}': expected NAME=stdio:COMMAND ARGS… or NAME=http://HOST/PATH, NAME of letters, digits, '_'`,
    );
  }
  if (target.startsWith('stdio:')) {
    const words = splitWords(target.slice('stdio:'.length));
    const [command, ...args] = words;
    if (!command)
      throw new McpError(`--mcp '${spec}': stdio: needs a command, e.g. ${name}=stdio:node server.js`);
    return { name, command, args };
  }
  if (/^https?:\/\//.test(target)) {
    try {
      new URL(target);
    } catch {
      throw new McpError(`--mcp '${spec}': '${target}' is not a valid URL`);
    }
    return { name, url: target };
  }
  throw new McpError(`--mcp '${spec}': use ${name}=stdio:COMMAND ARGS… or ${name}=http://HOST:PORT/mcp`);
}

function splitWords(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}
