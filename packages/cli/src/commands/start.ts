/**
 * `harmonia start`: the main job. The RAG FAQ support agent in the terminal over the bundled docs, with the
 * model backend from HARMONIA_BACKEND (an Ollama or vLLM URL, or native:DIR). With none reachable it prints
 * what to run to get one.
 */
import { createInterface } from 'node:readline';
import { createFaqAgent } from '@harmonia/rag-faq';
import { type CliIO, type Command, type FlagOptions, parseFlags } from '../command.js';
import { embedderOf, fail, resolveBackend } from './faq.js';

const OPTIONS = {
  backend: { type: 'string' },
  model: { type: 'string' },
  docs: { type: 'string' },
  db: { type: 'string' },
  embedder: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies FlagOptions;

const HELP = `Usage: harmonia start [--backend SPEC] [--docs DIR] [--db PATH]

Starts the Harmonia support agent in the terminal: it answers questions from the bundled docs (or --docs),
searching them with faq.search while it reasons, and cites the entries it used. Type /reset to start over,
/exit (or Ctrl-D) to leave.

  --backend SPEC  default $HARMONIA_BACKEND: http://127.0.0.1:11434 (Ollama), http://127.0.0.1:8000 (vLLM),
                  native:/models/gpt-oss-20b (local checkpoint), ollama:MODEL, script:FILE
  --model NAME    model on the server (default: the first gpt-oss model it lists)
  --docs DIR      docs folder (default: the bundled Harmonia docs)
  --db PATH       LanceDB folder or URI (default $HARMONIA_DB or ~/.cache/harmonia/faq)
  --embedder NAME use-lite (default) or hashing
`;

export const startCommand: Command = {
  name: 'start',
  summary: 'Start the RAG FAQ support agent over the bundled docs (the main job).',
  async run(args: string[], io: CliIO): Promise<number> {
    const values = parseFlags(args, OPTIONS).values;
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    let agent: Awaited<ReturnType<typeof createFaqAgent>>;
    try {
      const backend = await resolveBackend(values.backend, values.model);
      agent = await createFaqAgent({
        backend,
        embedder: embedderOf(values.embedder),
        ...(values.docs ? { docsDir: values.docs } : {}),
        ...(values.db ? { db: values.db } : {}),
      });
      io.stderr.write(
        `Harmonia support agent (${backend.id}, ${agent.report.chunks} doc entries). /exit to leave.\n`,
      );
    } catch (err) {
      return fail(io, err);
    }
    const rl = createInterface({ input: io.stdin, terminal: false });
    let session = 0;
    io.stdout.write('> ');
    try {
      for await (const line of rl) {
        const q = line.trim();
        if (q === '/exit' || q === '/quit') break;
        if (q === '/reset') {
          session++;
          io.stdout.write('(new conversation)\n> ');
          continue;
        }
        if (q) await answer(agent, `terminal-${session}`, q, io);
        io.stdout.write('> ');
      }
    } finally {
      rl.close();
      agent.index.close();
    }
    io.stdout.write('\n');
    return 0;
  },
};

async function answer(agent: Awaited<ReturnType<typeof createFaqAgent>>, id: string, q: string, io: CliIO) {
  let shown = '';
  try {
    for await (const ev of agent.bot.stream(id, q)) {
      if (ev.type === 'text') {
        // Text events carry the whole visible answer; print what is new, or start over when it was replaced.
        if (ev.text.startsWith(shown)) io.stdout.write(ev.text.slice(shown.length));
        else io.stdout.write(`\n[answer withdrawn]\n${ev.text}`);
        shown = ev.text;
      } else {
        io.stdout.write('\n');
        for (const cid of ev.reply.citations) {
          const e = await agent.index.get(cid);
          io.stdout.write(`  [faq:${cid}] ${e ? e.text.split('\n')[0] : ''}\n`);
        }
      }
    }
  } catch (err) {
    io.stdout.write('\n');
    fail(io, err);
  }
}
