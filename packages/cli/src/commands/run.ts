/**
 * `harmonia run --backend SPEC --input TEXT [--tools LIST] [--events FILE] [--journal FILE]`: one
 * non-interactive agent run. Prints the final text on stdout. Exit codes: 0 completed, 1 failed (typed error on
 * stderr), 2 bad flags, 3 finished without an answer (stopped by the monitor, blocked, capped, closed).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import {
  Agent,
  decode,
  McpError,
  type McpServerConfig,
  type ModelCallInfo,
  parseBackendSpec,
  parseMcpSpec,
  type ReasoningEffort,
  type RunEvent,
  type RunResult,
  runStream,
} from '@harmonia/core';
import {
  createRoutedBackend,
  type PriceTable,
  parseRouteFlag,
  type RouteConfig,
  RouteConfigError,
  readPriceTable,
} from '@harmonia/router';
import {
  BACKEND_FLAGS,
  type BackendFlagValues,
  backendFlagsHelp,
  resolveBackendFlags,
  specOf,
} from '../backend-flags.js';
import { type CliIO, type Command, type FlagOptions, parseFlags, UsageError } from '../command.js';
import { explainRunError } from '../run-errors.js';
import { disposeTools, resolveTools } from '../tools-registry.js';

/** Flags shared by `run` and `chat`. */
export const AGENT_FLAGS = {
  ...BACKEND_FLAGS,
  route: { type: 'string' },
  prices: { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  'search-backend': { type: 'string' },
  effort: { type: 'string', default: 'low' },
  instructions: { type: 'string' },
  tools: { type: 'string' },
  'max-model-calls': { type: 'string' },
  'max-turns': { type: 'string' },
  'max-tokens': { type: 'string' },
  mcp: { type: 'string', multiple: true },
} as const satisfies FlagOptions;

/** The search backends `--search-backend` accepts (the browser tool's names; `local` needs a docs folder). */
const SEARCH_BACKEND_NAMES = ['searxng', 'brave', 'exa', 'youcom'] as const;

export const AGENT_FLAGS_HELP = `${backendFlagsHelp()}
  --route ARMS|FILE     instead of --backend: route each conversation to a named arm, ARMS = 20b=SPEC,120b=SPEC
                        (or per arm: 20b-low=SPEC,…,120b-high=SPEC), FILE = JSON {arms, policy?, prices?}
  --prices FILE         with --route: price table JSON, {"20b": {"inputPerMTok": 0.05, "outputPerMTok": 0.2}, …}
  --effort LEVEL        reasoning effort: low, medium or high (default low)
  --instructions TEXT   developer instructions
  --tools LIST          comma-separated tools: echo, browser (Chromium), python (Docker sandbox)
  --allow-host HOST     browser: allow a private host, address or CIDR range (repeatable)
  --search-backend NAME browser: ${SEARCH_BACKEND_NAMES.join(' | ')} (default $HARMONIA_SEARCH_BACKEND or searxng)
  --max-model-calls N   model calls per run, retries included (default 10; --max-turns N is the older name)
  --max-tokens N        tokens sampled per model call (default: the backend's)
  --mcp NAME=SPEC       an MCP server's tools as namespace NAME (repeatable): NAME=stdio:COMMAND ARGS…
                        (one quoted argument) or NAME=http://HOST:PORT/mcp (streamable HTTP)`;

export function effortOf(v: unknown): ReasoningEffort {
  if (v === 'low' || v === 'medium' || v === 'high') return v;
  throw new UsageError(`--effort must be low, medium or high, got '${String(v)}'`);
}

export async function agentFromFlags(
  v: BackendFlagValues & {
    route?: string;
    prices?: string;
    'allow-host'?: string[];
    'search-backend'?: string;
    effort?: string;
    instructions?: string;
    tools?: string;
    'max-model-calls'?: string;
    'max-turns'?: string;
    'max-tokens'?: string;
    mcp?: string[];
  },
): Promise<Agent> {
  if (v.backend && v.route) throw new UsageError('give --backend or --route, not both');
  if (v.prices && !v.route) throw new UsageError('--prices needs --route');
  // Without --backend or --route, HARMONIA_BACKEND (a usage error naming both when unset).
  if (!v.route) parseBackendSpec(specOf(v));
  const route = v.route ? routeFromFlags(v.route, v.prices) : undefined;
  const effort = effortOf(v.effort);
  const maxModelCalls = positiveInt(v['max-model-calls'], '--max-model-calls');
  const maxTurns = positiveInt(v['max-turns'], '--max-turns');
  const maxTokens = positiveInt(v['max-tokens'], '--max-tokens');
  const mcp = mcpFromFlags(v.mcp);
  const search = v['search-backend'];
  if (search !== undefined && !(SEARCH_BACKEND_NAMES as readonly string[]).includes(search))
    throw new UsageError(
      `--search-backend must be one of ${SEARCH_BACKEND_NAMES.join(', ')}, got '${search}'`,
    );
  const toolNames = (v.tools ?? '').split(',').map((t) => t.trim());
  if ((v['allow-host']?.length || search) && !toolNames.includes('browser'))
    throw new UsageError('--allow-host and --search-backend need --tools browser');
  const backend = route
    ? await createRoutedBackend(route.config, {
        flags: {
          ...(v.model ? { model: v.model } : {}),
          ...(v.profile ? { profile: v.profile } : {}),
          ...(v['api-key'] ? { apiKey: v['api-key'] } : {}),
        },
        ...(route.prices ? { prices: route.prices } : {}),
      })
    : (await resolveBackendFlags(v)).backend;
  const tools = await resolveTools(v.tools, {
    ...(v['allow-host']?.length ? { allowHosts: v['allow-host'] } : {}),
    ...(search ? { searchBackend: search } : {}),
  });
  return new Agent({
    backend,
    tools,
    mcp,
    effort,
    ...(v.instructions ? { instructions: v.instructions } : {}),
    ...(maxModelCalls ? { maxModelCalls } : maxTurns ? { maxTurns } : {}),
    ...(maxTokens ? { sampling: { maxTokens } } : {}),
  });
}

/** `--route` (and `--prices`) → a routed backend's config; a bad one is a usage error. */
export function routeFromFlags(route: string, prices?: string): { config: RouteConfig; prices?: PriceTable } {
  try {
    return { config: parseRouteFlag(route), ...(prices ? { prices: readPriceTable(prices) } : {}) };
  } catch (err) {
    if (err instanceof RouteConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** `--mcp NAME=SPEC` values → MCP server configs; a malformed one is a usage error. */
export function mcpFromFlags(values: readonly string[] | undefined): McpServerConfig[] {
  try {
    return (values ?? []).map(parseMcpSpec);
  } catch (err) {
    if (err instanceof McpError) throw new UsageError(err.message);
    throw err;
  }
}

function positiveInt(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}

/** Tools that resolve `【cursor†Lx-Ly】` citations in an answer (the browser). */
interface CitingTool {
  citations(conversationId: string, text: string): { text: string };
}
const isCiting = (t: unknown): t is CitingTool =>
  typeof (t as { citations?: unknown })?.citations === 'function';

/** The answer with the browser's citations turned into links (`【0†L4】` → ` ([host](url)) `). */
export function withCitations(agent: Agent, conversationId: string, text: string): string {
  let out = text;
  for (const ns of agent.namespaces.values()) if (isCiting(ns)) out = ns.citations(conversationId, out).text;
  return out;
}

/** JSON for an event line: errors become `{name, message}`. */
export function eventJson(ev: RunEvent): string {
  if (ev.type === 'error')
    return JSON.stringify({ type: 'error', name: ev.error.name, message: ev.error.message });
  return JSON.stringify(ev);
}

export function journalJson(info: ModelCallInfo): string {
  const { prompt, messages, ...rest } = info;
  return JSON.stringify({
    ...rest,
    ...(prompt ? { prompt: decode(prompt) } : {}),
    ...(messages ? { messages } : {}),
  });
}

type OutputFile = WriteStream & { file: string; failure?: Error };

/** An output file named by a flag failed during the run (disk full, say). */
export class OutputFileError extends Error {
  override name = 'OutputFileError';
}

/**
 * Opens an output file named by a flag before anything runs: a path that cannot be written is a usage error with
 * one line, not a stack trace from a stream error later. Write errors during the run are kept for `close`.
 */
function open(path: string | undefined, flag: string): OutputFile | undefined {
  if (!path) return undefined;
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`${flag}: cannot write ${path} (${e.code ?? e.message})`);
  }
  const stream: OutputFile = Object.assign(createWriteStream(path, { fd }), { file: path });
  stream.on('error', (err) => {
    stream.failure ??= err;
  });
  return stream;
}

/** Closes an output file; a write that failed during the run is reported here as one line. */
async function close(s: OutputFile | undefined, flag: string): Promise<void> {
  if (!s) return;
  let err = s.failure;
  if (!err && !s.destroyed) {
    err = await new Promise<Error | undefined>((resolve) =>
      s.end((e?: Error | null) => resolve(e ?? undefined)),
    );
  }
  err ??= s.failure;
  if (err) {
    const code = (err as NodeJS.ErrnoException).code ?? err.message;
    throw new OutputFileError(`${flag}: could not write ${s.file} (${code})`);
  }
}

const HELP = `Usage: harmonia run --backend SPEC [options] "MESSAGE"   (or --input MESSAGE)

One non-interactive agent run. Prints the final answer on stdout.

${AGENT_FLAGS_HELP}
  --input TEXT          the user message (or give it as the one argument)
  --events FILE         write every run event as one JSON line
  --journal FILE        write one JSON line per model call with the rendered prompt text
  --show-reasoning      print the model's reasoning on stderr
  --json                print the whole result as JSON instead of the answer

Exit codes: 0 answered, 1 failed, 2 bad flags, 3 no answer (monitor, guardrail, reply cap, closed).
`;

export const runCommand: Command = {
  name: 'run',
  summary: 'One non-interactive agent run.',
  async run(args: string[], io: CliIO): Promise<number> {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(HELP);
      return 0;
    }
    const parsed = parseFlags(
      args,
      {
        ...AGENT_FLAGS,
        input: { type: 'string' },
        events: { type: 'string' },
        journal: { type: 'string' },
        'show-reasoning': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
      { positionals: true },
    );
    const v = parsed.values;
    // The message: --input TEXT, or the one argument (`harmonia run "What is 2+2?"`).
    if (parsed.positionals.length > 1)
      throw new UsageError(
        `give the message as one quoted argument (or --input TEXT), got ${parsed.positionals.length} arguments`,
      );
    if (parsed.positionals.length === 1 && v.input !== undefined)
      throw new UsageError('give the message as an argument or as --input TEXT, not both');
    const input = v.input ?? parsed.positionals[0];
    if (input === undefined)
      throw new UsageError('a message is required: harmonia run "TEXT" (or --input TEXT)');
    const events = open(v.events, '--events');
    const journal = open(v.journal, '--journal');
    const agent = await agentFromFlags(v);
    let result: RunResult | undefined;
    let answer = '';
    let failure: string | undefined;
    const conversationId = randomUUID();
    try {
      for await (const ev of runStream(agent, input, {
        conversationId,
        includeReasoning: v['show-reasoning'],
        onModelCall: (info) => journal?.write(`${journalJson(info)}\n`),
      })) {
        events?.write(`${eventJson(ev)}\n`);
        if (ev.type === 'reasoning_delta') io.stderr.write(ev.delta);
        if (ev.type === 'done') result = ev.result;
      }
      if (result) answer = withCitations(agent, conversationId, result.finalText);
    } catch (err) {
      const explained = explainRunError(err, {
        maxTokens: v['max-tokens'] ? Number(v['max-tokens']) : undefined,
        maxModelCallsFlag: true,
      });
      if (!explained) throw err;
      failure = `harmonia run: ${explained}\n`;
    } finally {
      await disposeTools([...agent.namespaces.values()]);
      await close(events, '--events');
      await close(journal, '--journal');
    }
    if (failure) io.stderr.write(failure);
    if (!result) return 1;
    if (v.json) io.stdout.write(`${JSON.stringify(result)}\n`);
    else io.stdout.write(`${answer}\n`);
    if (result.status !== 'completed') {
      io.stderr.write(
        `harmonia run: ${result.status}${result.stop ? ` (${result.stop.by}: ${result.stop.reason})` : ''}\n`,
      );
      return 3;
    }
    return 0;
  },
};
