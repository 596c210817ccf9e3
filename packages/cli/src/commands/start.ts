/**
 * `harmonia start`: the main job. The Harmonia support bot in the terminal over the bundled docs (or --docs):
 * FAQ search while it reasons, citations, the on-task monitor, guardrails, the reply cap and ticket closing.
 * Reads one question per line from stdin and prints each answer on stdout, so it works in a pipe as well as
 * interactively. With no backend reachable it prints what to run to get one.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type ConversationStore,
  defaultStorePath,
  McpNamespace,
  openStore,
  StoreOpenError,
} from '@harmonia/core';
import type { FaqAgent, FaqAgentOptions, SupportReply } from '@harmonia/support';
import { BACKEND_FLAGS, backendFlagsHelp, backendWithHelp } from '../backend-flags.js';
import { type CliIO, type Command, type FlagOptions, parseFlags, UsageError } from '../command.js';
import { findLocalServer, localCandidates, noServerHelp } from '../local-servers.js';
import { explainRunError } from '../run-errors.js';
import { type Ticker, ticker } from '../ticker.js';
import { effortOf, journalJson, mcpFromFlags, routeFromFlags } from './run.js';

// The support bot, the FAQ index and the router load after the first line is on screen (LanceDB and the
// embedding model take seconds to import on a busy machine).
const faq = () => import('./faq.js');

const OPTIONS = {
  ...BACKEND_FLAGS,
  route: { type: 'string' },
  prices: { type: 'string' },
  docs: { type: 'string' },
  product: { type: 'string' },
  monitor: { type: 'string' },
  'monitor-model': { type: 'string' },
  'monitor-backend': { type: 'string' },
  db: { type: 'string' },
  embedder: { type: 'string' },
  mcp: { type: 'string', multiple: true },
  store: { type: 'string' },
  'max-replies': { type: 'string' },
  journal: { type: 'string' },
  effort: { type: 'string' },
  'max-tokens': { type: 'string' },
  'show-reasoning': { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies FlagOptions;

const HELP = `Usage: harmonia start [--backend SPEC] [--docs DIR] [--product NAME] [--db PATH]

Starts the Harmonia support bot: it answers questions from the bundled docs (or --docs), searching them with
faq.search while it reasons, and cites the entries it used. A monitor stops answers that drift off the docs'
topic or follow an attack, and the user sees the refusal instead; a conversation has a reply cap, and the bot
closes tickets that keep pushing for off-topic content.

Reads one question per line on stdin and prints each answer on stdout (prompts only when stdin is a terminal):
  harmonia start --backend script:FILE --docs DIR --db DIR < questions.txt
The conversation is kept in a store and continues where it left off when you start again, until /reset.
Type /reset to start a new conversation, /exit (or Ctrl-D) to leave. With no --backend and no
$HARMONIA_BACKEND it looks for a model server on the default local ports (Ollama, vLLM, llama.cpp, LM Studio).

${backendFlagsHelp()}
  --route ARMS|FILE     instead of --backend: route each conversation to a named arm (20b=SPEC,120b=SPEC or
                        20b-low=SPEC,…; FILE = JSON {arms, policy?, prices?}); --prices FILE sets the price table
  --effort LEVEL        reasoning effort: low, medium or high (default: the router's choice, else low)
  --max-tokens N        tokens sampled per model call (default: the backend's; a cap for small or synthetic models)
  --show-reasoning      show the model's reasoning (dimmed, on stderr) and every doc search it makes; for the
                        person running the bot, never sent to a user
  --no-color            plain text, no ANSI colours
  --docs DIR            docs folder (default: the bundled Harmonia docs)
  --product NAME        what the bot supports, used in its instructions and refusal (default Harmonia)
  --db PATH             LanceDB folder or URI (default $HARMONIA_DB or ~/.cache/harmonia/faq)
  --embedder NAME       use-lite (default) or hashing
  --mcp NAME=SPEC       an MCP server's tools as namespace NAME, next to faq (repeatable):
                        NAME=stdio:COMMAND ARGS… (one quoted argument) or NAME=http://HOST:PORT/mcp
  --monitor KIND        embedded (default: a small trained classifier, no second model), model (a second model
                        judges with a rubric; --monitor-backend SPEC, default the bot's backend) or keyword
                        (the rules only)
  --monitor-model FILE  a model from 'harmonia monitor train --docs DIR' (default: the bundled one)
  --store PATH          where conversations and tickets are kept: a folder (embedded PostgreSQL, default
                        ~/.cache/harmonia/store/start), postgres://USER@HOST/DB, or memory (forgotten on exit)
  --max-replies N       bot answers per conversation before it is closed and handed to a person (default 5)
  --journal FILE        write one JSON line per model call with the rendered prompt text
`;

export const startCommand: Command = {
  name: 'start',
  summary: 'Start the support bot over the bundled docs or --docs DIR (the main job).',
  async run(args: string[], io: CliIO): Promise<number> {
    const values = parseFlags(args, OPTIONS).values;
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (values.backend && values.route) throw new UsageError('give --backend or --route, not both');
    if (values.prices && !values.route) throw new UsageError('--prices needs --route');
    const route = values.route ? routeFromFlags(values.route, values.prices) : undefined;
    const rawCap = values['max-replies'];
    const maxReplies = rawCap === undefined ? 5 : Number(rawCap);
    if (!Number.isInteger(maxReplies) || maxReplies < 1)
      throw new UsageError(`--max-replies must be a positive whole number, got '${rawCap}'`);
    const effort = values.effort === undefined ? undefined : effortOf(values.effort);
    const maxTokens = values['max-tokens'] === undefined ? undefined : Number(values['max-tokens']);
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1))
      throw new UsageError(`--max-tokens must be a positive whole number, got '${values['max-tokens']}'`);
    let agent: FaqAgent;
    let store: ConversationStore | undefined;
    const journal: WriteStream | undefined = values.journal
      ? createWriteStream(values.journal, { flags: 'w' })
      : undefined;
    const mcp = mcpFromFlags(values.mcp).map((c) => new McpNamespace(c));
    // No backend named: look for a local server on its default port and say what was found.
    let spec = values.backend;
    if (!spec && !route && !process.env.HARMONIA_BACKEND) {
      const tried = localCandidates();
      io.stderr.write(
        `No backend set; looking for a local model server (${tried.map((t) => t.name).join(', ')})…\n`,
      );
      const found = await findLocalServer(tried);
      if (!found) {
        io.stderr.write(noServerHelp(tried));
        journal?.end();
        return 1;
      }
      io.stderr.write(`Found ${found.kind} at ${found.root} (${found.evidence}).\n`);
      spec = found.root;
    }
    const progress = ticker(io);
    progress.start('Loading Harmonia');
    const { embedderOf, fail, resolveBackend } = await faq();
    const { BACKEND_HELP } = await import('@harmonia/support');
    const { createFaqAgent, ModelMonitor } = await import('@harmonia/support');
    const { createRoutedBackend } = await import('@harmonia/router');
    try {
      const named = spec ?? process.env.HARMONIA_BACKEND ?? '';
      if (named.startsWith('native:') && !route) await buildEngine(progress);
      progress.start(
        named.startsWith('native:')
          ? `Loading the checkpoint ${named.slice('native:'.length)} (the native engine)`
          : 'Connecting to the model backend',
      );
      const backend = route
        ? await createRoutedBackend(route.config, {
            ...(values.model ? { flags: { model: values.model } } : {}),
            ...(route.prices ? { prices: route.prices } : {}),
          })
        : await backendWithHelp({ ...values, backend: spec }, BACKEND_HELP);
      progress.start('Indexing the docs (the first start embeds them; later starts reuse the index)');
      store = await openStore(values.store ?? join(defaultStorePath(), 'start'));
      agent = await createFaqAgent({
        backend,
        embedder: embedderOf(values.embedder),
        ...(values.docs ? { docsDir: values.docs } : {}),
        ...(values.db ? { db: values.db } : {}),
        ...(values.product ? { product: values.product } : {}),
        ...(mcp.length ? { tools: mcp } : {}),
        monitor:
          values.monitor === 'model'
            ? new ModelMonitor({
                backend: await resolveBackend(values['monitor-backend'] ?? spec, values.model),
                purpose: `${values.product ?? 'Harmonia'}: questions answered by its documentation.`,
              })
            : monitorChoice(values.monitor, values['monitor-model']),
        support: {
          store,
          maxReplies,
          ...(effort ? { effort } : {}),
          ...(maxTokens ? { sampling: { maxTokens } } : {}),
        },
      });
      for (const m of mcp) await m.prepare();
      progress.stop();
      io.stderr.write(
        `Harmonia support bot (${'kind' in backend ? backend.id : `routed: ${backend.arms.join(', ')}`}, ${agent.report.chunks} doc entries). /exit to leave.\n`,
      );
    } catch (err) {
      progress.stop();
      for (const m of mcp) await m.dispose();
      await store?.dispose?.();
      journal?.end();
      if (err instanceof StoreOpenError) {
        io.stderr.write(`${err.message}\n`);
        return 1;
      }
      return fail(io, err);
    }
    const interactive = (io.stdin as { isTTY?: boolean }).isTTY === true;
    const prompt = () => {
      if (interactive) io.stdout.write('> ');
    };
    const conversations = store;
    // On a terminal: line editing and the up-arrow history of this session (readline's); piped: plain lines.
    const rl = interactive
      ? createInterface({ input: io.stdin, output: io.stdout, terminal: true, historySize: 200 })
      : createInterface({ input: io.stdin, terminal: false });
    // One terminal conversation per store, continued across restarts: the newest `terminal-N`.
    let session = Math.max(
      0,
      ...(await conversations.list()).map((c) => Number(/^terminal-(\d+)$/.exec(c.id)?.[1] ?? -1)),
    );
    const resumed = await conversations.load(`terminal-${session}`);
    if (resumed?.messages.length) {
      const asked = resumed.messages.filter((m) => m.role === 'user').length;
      io.stderr.write(
        resumed.closed
          ? `(this conversation is closed: ${resumed.closed.reason}; type /reset for a new one)\n`
          : `(continuing your conversation: ${asked} question${asked === 1 ? '' : 's'} so far; /reset starts over)\n`,
      );
    }
    const color = interactive && !values['no-color'] && !process.env.NO_COLOR;
    const show: ShowOptions = {
      stream: interactive,
      reasoning: values['show-reasoning'] === true,
      dim: (t) => (color ? `\x1b[2m${t}\x1b[22m` : t),
      ...(maxTokens ? { maxTokens } : {}),
    };
    const onModelCall = journal
      ? (info: Parameters<typeof journalJson>[0]) => journal.write(`${journalJson(info)}\n`)
      : undefined;
    prompt();
    try {
      for await (const line of rl) {
        const q = line.trim();
        if (q === '/exit' || q === '/quit') break;
        if (q === '/reset') {
          session++;
          if (interactive) io.stdout.write('(new conversation)\n');
        } else if (q) await answer(agent, `terminal-${session}`, q, io, show, onModelCall);
        prompt();
      }
    } finally {
      rl.close();
      agent.index.close();
      for (const m of mcp) await m.dispose();
      await conversations.dispose?.();
      if (journal) await new Promise<void>((resolve) => journal.end(() => resolve()));
    }
    if (interactive) io.stdout.write('\n');
    return 0;
  },
};

/**
 * The native engine's first use compiles it (a minute or two): on the spinner, naming the file being compiled,
 * instead of compiler lines written across it.
 */
async function buildEngine(progress: Ticker): Promise<void> {
  const { ensureNativeBuilt, nativeBuilt } = await import('@harmonia/engine');
  if (nativeBuilt()) return;
  const label = 'Building the native engine (once; about 1-2 minutes)';
  progress.start(label);
  await ensureNativeBuilt({
    onProgress: (line) => {
      const file = /(?:CXX|SOLINK_MODULE|SOLINK|CC)\(target\)\s+\S*?([\w.-]+)$/.exec(line.trim())?.[1];
      if (file) progress.relabel(`${label}: ${file}`);
    },
  });
}

interface ShowOptions {
  /** A terminal: stream the answer, spinner while the model works. */
  stream: boolean;
  /** --show-reasoning: the model's reasoning and every search, dimmed on stderr. */
  reasoning: boolean;
  dim: (text: string) => string;
  maxTokens?: number;
}

function monitorChoice(kind: string | undefined, modelFile: string | undefined): FaqAgentOptions['monitor'] {
  if (kind !== undefined && kind !== 'embedded' && kind !== 'keyword')
    throw new UsageError(`--monitor must be embedded, model or keyword, got '${kind}'`);
  if (kind === 'keyword') {
    if (modelFile) throw new UsageError('--monitor-model needs --monitor embedded');
    return 'keyword';
  }
  return modelFile ? { modelFile } : 'embedded';
}

/**
 * Interactive: the answer streams as the bot releases it (sentence by sentence, each after the guards passed).
 * Piped: one complete answer per question, nothing that was later withdrawn.
 */
async function answer(
  agent: FaqAgent,
  id: string,
  q: string,
  io: CliIO,
  show: ShowOptions,
  onModelCall?: (info: Parameters<typeof journalJson>[0]) => void,
) {
  const { stream } = show;
  let shown = '';
  let reply: SupportReply | undefined;
  // On a terminal, a spinner until the answer starts, naming the doc searches as they happen.
  const wait = stream ? ticker(io) : undefined;
  wait?.start('Thinking');
  // --show-reasoning: reasoning text on stderr, ended with a newline before anything else is shown.
  let reasoningOpen = false;
  const endReasoning = () => {
    if (reasoningOpen) io.stderr.write('\n');
    reasoningOpen = false;
  };
  try {
    for await (const ev of agent.bot.stream(id, q, undefined, {
      ...(onModelCall ? { onModelCall } : {}),
      progress: stream,
      reasoning: show.reasoning,
    })) {
      if (ev.type === 'done') reply = ev.reply;
      else if (ev.type === 'reasoning') {
        wait?.stop();
        if (!reasoningOpen) io.stderr.write(show.dim('[reasoning] '));
        reasoningOpen = true;
        io.stderr.write(show.dim(ev.delta));
      } else if (ev.type === 'searching') {
        endReasoning();
        const what = ev.query ? `Searching the docs for "${ev.query.slice(0, 60)}"` : 'Searching the docs';
        if (wait) wait.start(what);
        else if (show.reasoning) io.stderr.write(show.dim(`${what}\n`));
      } else if (stream) {
        if (ev.text) {
          wait?.stop();
          endReasoning();
        }
        // Text events carry the whole visible answer; print what is new, or start over when it was replaced.
        if (ev.text.startsWith(shown)) io.stdout.write(ev.text.slice(shown.length));
        else io.stdout.write(`\n[answer withdrawn]\n${ev.text}`);
        shown = ev.text;
      }
    }
  } catch (err) {
    wait?.stop();
    endReasoning();
    if (shown) io.stdout.write('\n');
    const explained = explainRunError(err, { maxTokens: show.maxTokens });
    if (explained) io.stderr.write(`${explained}\n`);
    else (await faq()).fail(io, err);
    return;
  }
  wait?.stop();
  endReasoning();
  if (!reply) return;
  io.stdout.write(stream ? '\n' : `${reply.text}\n`);
  for (const cid of reply.citations) {
    const e = await agent.index.get(cid);
    io.stdout.write(`  [faq:${cid}] ${e ? e.text.split('\n')[0] : ''}\n`);
  }
  if (reply.stop) io.stderr.write(`(stopped by ${reply.stop.by}: ${reply.stop.reason})\n`);
}
