/**
 * `harmonia serve --backend SPEC [--tools browser,python] [--host H] [--port P] [--api-key KEY]`: an
 * OpenAI-compatible HTTP API (Responses, Chat Completions, models) over one backend, with the built-in tools run
 * server-side. Runs until SIGINT/SIGTERM.
 *
 * Two keys, one name each: the key clients must send is `--api-key` / `$HARMONIA_SERVE_API_KEY` (as `--api-key`
 * means on vLLM and llama-server); the key sent to the model server is `--backend-api-key`, else
 * `$HARMONIA_API_KEY` for the backend `$HARMONIA_BACKEND` names, as in every other command.
 */
import {
  type Backend,
  type BackendSpec,
  backendForms,
  backendFromSpec,
  backendHelp,
  type ConversationStore,
  McpNamespace,
  openStore,
  PROFILE_NAMES,
  parseBackendSpec,
  type ReasoningEffort,
  type ToolNamespace,
} from '@harmonia/core';
import { createRoutedBackend } from '@harmonia/router';
import { createHarmoniaServer, type ServedArm } from '@harmonia/server';
import { type CliIO, type Command, type FlagOptions, parseFlags, UsageError } from '../command.js';
import { disposeTools, resolveTools } from '../tools-registry.js';
import { effortOf, mcpFromFlags, routeFromFlags } from './run.js';

const FLAGS = {
  backend: { type: 'string' },
  route: { type: 'string' },
  prices: { type: 'string' },
  model: { type: 'string' },
  profile: { type: 'string' },
  tools: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '8000' },
  'api-key': { type: 'string' },
  'backend-api-key': { type: 'string' },
  effort: { type: 'string', default: 'medium' },
  'hide-reasoning': { type: 'boolean', default: false },
  models: { type: 'string' },
  'max-model-calls': { type: 'string' },
  'max-turns': { type: 'string' },
  mcp: { type: 'string', multiple: true },
  store: { type: 'string' },
} as const satisfies FlagOptions;

const HELP = `Usage: harmonia serve --backend SPEC [options]

An OpenAI-compatible API over one backend: GET /v1/models, POST /v1/responses (plain and streamed,
previous_response_id, function tools, reasoning items), GET /v1/responses/{id}, POST /v1/chat/completions.
Every model name is served by the backend; with --route a model name picks its arm (20b, 120b-high;
gpt-oss-120b → a 120b arm) and 'auto' or any other name lets the router choose.

  --backend SPEC        where gpt-oss runs (default $HARMONIA_BACKEND):
${backendHelp(24)}
  --route ARMS|FILE     instead of --backend: route each conversation to a named arm (20b=SPEC,120b=SPEC or
                        20b-low=SPEC,…; FILE = JSON {arms, policy?, prices?}); --prices FILE sets the price table
  --model NAME          model for URL backends (default: the first one the server lists)
  --profile NAME        chat: capability profile, default from the server: ${PROFILE_NAMES.join(', ')}
  --tools LIST          built-in tools run server-side: browser, python
  --host HOST           address to listen on (default 127.0.0.1)
  --port PORT           port (default 8000; 0 picks a free one)
  --api-key KEY         the key clients must send ('Authorization: Bearer KEY'; default $HARMONIA_SERVE_API_KEY,
                        else none)
  --backend-api-key KEY the key sent to the model server (default $HARMONIA_API_KEY when the backend is
                        $HARMONIA_BACKEND; hosted APIs: OPENAI_/OPENROUTER_/GROQ_API_KEY for their own host)
  --effort LEVEL        reasoning effort when a request sets none: low, medium, high (default medium)
  --hide-reasoning      never return reasoning text (public deployments)
  --models LIST         names listed by GET /v1/models (default gpt-oss)
  --max-model-calls N   model calls per request, tool rounds included (default 10; --max-turns N is the
                        older name)
  --store SPEC          where responses are kept for previous_response_id: memory (default), a folder
                        (embedded PGlite) or postgres://… (shared by every replica)
  --mcp NAME=SPEC       an MCP server's tools as namespace NAME, run server-side (repeatable):
                        NAME=stdio:COMMAND ARGS… (one quoted argument) or NAME=http://HOST:PORT/mcp
`;

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the server from flags; resolves once it listens (the URL is printed on stdout). */
export async function startServe(
  args: string[],
  io: CliIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningServer> {
  const v = parseFlags(args, FLAGS).values;
  if (v.backend && v.route) throw new UsageError('give --backend or --route, not both');
  if (v.prices && !v.route) throw new UsageError('--prices needs --route');
  const backendSpec = v.backend ?? (v.route ? undefined : env.HARMONIA_BACKEND);
  if (!backendSpec && !v.route)
    throw new UsageError(
      `--backend is required (or set HARMONIA_BACKEND): ${backendForms()}; or --route ARMS`,
    );
  const keys = serveKeys(v, env);
  if (keys.notice) io.stderr.write(`${keys.notice}\n`);
  const route = v.route ? routeFromFlags(v.route, v.prices) : undefined;
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got '${v.port}'`);
  }
  // --max-model-calls, as on run and chat; --max-turns is its older name here.
  if (v['max-model-calls'] !== undefined && v['max-turns'] !== undefined)
    throw new UsageError('give --max-model-calls N (or the older --max-turns N), not both');
  const callsFlag = v['max-model-calls'] !== undefined ? '--max-model-calls' : '--max-turns';
  const rawCalls = v['max-model-calls'] ?? v['max-turns'];
  let maxTurns: number | undefined;
  if (rawCalls !== undefined) {
    maxTurns = Number(rawCalls);
    if (!Number.isInteger(maxTurns) || maxTurns < 1)
      throw new UsageError(`${callsFlag} must be a positive integer`);
  }
  const effort = effortOf(v.effort);
  const spec = backendSpec ? parseBackendSpec(backendSpec) : undefined;
  const mcp = mcpFromFlags(v.mcp).map((c) => new McpNamespace(c));
  const loaded = await resolveTools(v.tools);
  const tools: ToolNamespace[] = [];
  for (const t of loaded) {
    if ('kind' in t && t.kind === 'function') {
      throw new UsageError(
        `--tools: '${t.name}' is a function, and clients bring their own functions; serve runs browser and python`,
      );
    }
    tools.push(t as ToolNamespace);
  }
  tools.push(...mcp);
  try {
    // Connect now: a server that cannot start is reported before clients arrive.
    for (const m of mcp) await m.prepare();
  } catch (err) {
    await disposeTools(tools);
    throw err;
  }
  let store: ConversationStore | undefined;
  try {
    store = v.store ? await openStore(v.store) : undefined;
  } catch (err) {
    await disposeTools(tools);
    throw err;
  }
  const backendFlags = {
    ...(v.model ? { model: v.model } : {}),
    ...(v.profile ? { profile: v.profile } : {}),
  };
  // The model server's key: --backend-api-key for every backend; $HARMONIA_API_KEY only for $HARMONIA_BACKEND.
  const keyFor = (s: string) => {
    const k =
      v['backend-api-key'] ??
      (keys.envKeyIsOutbound && s === env.HARMONIA_BACKEND ? env.HARMONIA_API_KEY : undefined);
    return k ? { ...backendFlags, apiKey: k } : backendFlags;
  };
  // With a store, routing decisions are recorded there and stay sticky across restarts and replicas.
  const backend = route
    ? await createRoutedBackend(route.config, {
        flags: v['backend-api-key'] ? { ...backendFlags, apiKey: v['backend-api-key'] } : backendFlags,
        ...(route.prices ? { prices: route.prices } : {}),
        ...(store ? { store } : {}),
      })
    : await backendFromSpec(spec as BackendSpec, keyFor(backendSpec as string));
  // With --route each arm also answers to its own model name (gpt-oss-120b → a 120b arm); 'auto' routes.
  let arms: Record<string, ServedArm> | undefined;
  if (route) {
    arms = {};
    const bySpec = new Map<string, Promise<Backend>>();
    for (const [name, armSpec] of Object.entries(route.config.arms)) {
      if (typeof armSpec !== 'string') continue;
      let b = bySpec.get(armSpec);
      if (!b) {
        b = backendFromSpec(armSpec, keyFor(armSpec));
        bySpec.set(armSpec, b);
      }
      const armEffort = /-(low|medium|high)$/.exec(name)?.[1] as ReasoningEffort | undefined;
      arms[name] = { backend: await b, ...(armEffort ? { effort: armEffort } : {}) };
    }
  }
  const apiKey = keys.inbound;
  const server = createHarmoniaServer({
    backend,
    ...(arms ? { arms } : {}),
    ...(store ? { store } : {}),
    tools,
    effort,
    hideReasoning: v['hide-reasoning'] ?? false,
    ...(apiKey ? { apiKey } : {}),
    ...(v.models
      ? {
          models: v.models
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        }
      : {}),
    ...(maxTurns !== undefined ? { maxTurns } : {}),
  });
  let url: string;
  try {
    url = await server.listen(port, v.host);
  } catch (err) {
    await disposeTools(tools);
    await store?.dispose?.();
    throw new UsageError(`cannot listen on ${v.host}:${port}: ${(err as Error).message}`);
  }
  io.stdout.write(
    `harmonia serve: listening on ${url}/v1 · backend ${'kind' in backend ? backend.id : `routed (${backend.arms.join(', ')})`}\n`,
  );
  return {
    url,
    async close() {
      await server.close();
      await disposeTools(tools);
      await store?.dispose?.();
    },
  };
}

/**
 * Which key is which. `$HARMONIA_API_KEY` used to be serve's client key; everywhere else it is the key sent to a
 * model server. When it is the only key set, serve keeps the old meaning (a server that required a key still
 * does) and says so in one line; with `--api-key` or `$HARMONIA_SERVE_API_KEY` it is the model server's key.
 */
export function serveKeys(
  v: { 'api-key'?: string | undefined },
  env: NodeJS.ProcessEnv,
): { inbound?: string; envKeyIsOutbound: boolean; notice?: string } {
  const inbound = v['api-key'] ?? env.HARMONIA_SERVE_API_KEY;
  if (inbound) return { inbound, envKeyIsOutbound: true };
  if (env.HARMONIA_API_KEY)
    return {
      inbound: env.HARMONIA_API_KEY,
      envKeyIsOutbound: false,
      notice:
        'harmonia serve: requiring $HARMONIA_API_KEY from clients as before; set HARMONIA_SERVE_API_KEY (or --api-key) for that, as $HARMONIA_API_KEY is the key sent to model servers.',
    };
  return { envKeyIsOutbound: true };
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'OpenAI-compatible HTTP API (Responses, Chat Completions) over a backend.',
  async run(args: string[], io: CliIO): Promise<number> {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(HELP);
      return 0;
    }
    const running = await startServe(args, io);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await running.close();
    return 0;
  },
};
