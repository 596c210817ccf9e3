/**
 * `harmonia mcp serve --tools python[,browser] [--http PORT] [--host H]`: the built-in tools as an MCP server,
 * on stdio (default) or streamable HTTP. One python kernel and one browser context per MCP session.
 */
import type { ToolNamespace } from '@harmonia/core';
import { serveMcpHttp, serveMcpStdio } from '@harmonia/server';
import { type CliIO, commandGroup, parseFlags, UsageError } from '../command.js';
import { disposeTools, resolveTools } from '../tools-registry.js';

const FLAGS = {
  tools: { type: 'string' },
  http: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
} as const;

const SERVE_HELP = `Usage: harmonia mcp serve --tools python[,browser] [--http PORT] [--host HOST]

Serves the built-in tools to any MCP client: python (a stateful sandboxed kernel per session, tool 'python'
with {code}) and browser (search, open, find). Speaks stdio unless --http is given.

  --tools LIST   python, browser (required)
  --http PORT    streamable HTTP on http://HOST:PORT/mcp instead of stdio (0 picks a free port)
  --host HOST    address for --http (default 127.0.0.1)
`;

async function namespacesOf(list: string | undefined): Promise<ToolNamespace[]> {
  if (!list) throw new UsageError('--tools is required: python, browser or both (python,browser)');
  const tools = await resolveTools(list);
  const out: ToolNamespace[] = [];
  for (const t of tools) {
    if ('kind' in t && t.kind === 'function') {
      await disposeTools(tools);
      throw new UsageError(`--tools: '${t.name}' is not served over MCP; use python and/or browser`);
    }
    out.push(t as ToolNamespace);
  }
  return out;
}

/** Starts the HTTP form; resolves once it listens (the URL goes to stdout). For tests and embedding. */
export async function startMcpHttp(
  args: string[],
  io: CliIO,
): Promise<{ url: string; close(): Promise<void> }> {
  const v = parseFlags(args, FLAGS).values;
  const port = Number(v.http);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--http must be a port from 0 to 65535, got '${v.http}'`);
  }
  const tools = await namespacesOf(v.tools);
  let handle: Awaited<ReturnType<typeof serveMcpHttp>>;
  try {
    handle = await serveMcpHttp(tools, { port, host: v.host ?? '127.0.0.1' });
  } catch (err) {
    await disposeTools(tools);
    throw new UsageError(`cannot listen on ${v.host}:${port}: ${(err as Error).message}`);
  }
  io.stdout.write(`harmonia mcp: serving ${tools.map((t) => t.name).join(', ')} on ${handle.url}\n`);
  return {
    url: handle.url,
    async close() {
      await handle.close();
      await disposeTools(tools);
    },
  };
}

export const mcpCommand = commandGroup(
  'mcp',
  'Serve the built-in tools over MCP (stdio or streamable HTTP).',
  {
    serve: {
      summary: 'Serve python and/or browser to MCP clients.',
      help: SERVE_HELP,
      async run(args: string[], io: CliIO): Promise<number> {
        const v = parseFlags(args, FLAGS).values;
        if (v.http !== undefined) {
          const running = await startMcpHttp(args, io);
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          await running.close();
          return 0;
        }
        const tools = await namespacesOf(v.tools);
        // stdout is the protocol channel: nothing else may be written to it.
        io.stderr.write(`harmonia mcp: serving ${tools.map((t) => t.name).join(', ')} on stdio\n`);
        try {
          await serveMcpStdio(tools, {
            stdin: io.stdin as NodeJS.ReadableStream as import('node:stream').Readable,
            stdout: io.stdout as NodeJS.WritableStream as import('node:stream').Writable,
          });
        } finally {
          await disposeTools(tools);
        }
        return 0;
      },
    },
  },
);
