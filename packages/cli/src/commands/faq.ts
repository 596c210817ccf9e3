/**
 * `harmonia faq index|ask|eval`: the RAG FAQ agent over a folder of docs (LanceDB, offline embeddings).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, BackendSpecError, BackendUnavailableError } from '@harmonia/core';
import {
  BACKEND_HELP,
  bundledDocsDir,
  bundledQuestionsFile,
  createFaqAgent,
  defaultDbPath,
  type Embedder,
  evaluate,
  FaqIndex,
  FaqIndexError,
  faqBackend,
  formatScore,
  HashingEmbedder,
  type IndexReport,
  loadQuestions,
  UseLiteEmbedder,
} from '@harmonia/support';
import { BACKEND_FLAGS, backendFlagsHelp, backendWithHelp } from '../backend-flags.js';
import {
  type CliIO,
  commandGroup,
  type FlagOptions,
  parseFlags,
  type Subcommand,
  UsageError,
} from '../command.js';

const parse = <const T extends FlagOptions>(args: string[], options: T) =>
  parseFlags(args, options, { positionals: true });

export function embedderOf(name: string | undefined): Embedder {
  const n = name ?? process.env.HARMONIA_FAQ_EMBEDDER ?? 'use-lite';
  if (n === 'use-lite') return new UseLiteEmbedder();
  if (n === 'hashing') return new HashingEmbedder();
  throw new UsageError(`--embedder must be use-lite or hashing, got '${n}'`);
}

/** The backend from `--backend` or `HARMONIA_BACKEND`; none reachable → `BackendUnavailableError` with what to run. */
export function resolveBackend(spec: string | undefined, model?: string): Promise<Backend> {
  return faqBackend(spec ?? process.env.HARMONIA_BACKEND, model);
}

export function formatReport(r: IndexReport): string {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const files = r.added.length + r.updated.length + r.unchanged.length;
  // Entries (searchable chunks) and files are counted on separate lines: they are different units.
  const lines = [
    `index: ${plural(r.chunks, 'entry', 'entries')} from ${plural(files, 'file', 'files')}`,
    `files: ${r.added.length} added, ${r.updated.length} updated, ${r.unchanged.length} unchanged, ${r.removed.length} removed`,
    ...r.skipped.map((s) => `skipped ${s.reason}`),
  ];
  return `${lines.join('\n')}\n`;
}

const index: Subcommand = {
  summary: 'Index a folder of Markdown/HTML/text docs (incremental).',
  help: `Usage: harmonia faq index DIR [--db PATH] [--embedder use-lite|hashing]

Indexes DIR into a LanceDB table: sections with their headings, USE-lite vectors (offline) and a full-text
index. Running it again re-indexes only changed files; binary, non-UTF-8 and oversized files are skipped.

  --db PATH        LanceDB folder or URI (s3://bucket/faq); default $HARMONIA_DB or ~/.cache/harmonia/faq
  --embedder NAME  use-lite (default) or hashing (no model; for tests)`,
  async run(args, io) {
    const { values, positionals } = parse(args, { db: { type: 'string' }, embedder: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError('harmonia faq index needs exactly one DIR');
    const idx = await FaqIndex.open({
      uri: values.db ?? defaultDbPath(),
      embedder: embedderOf(values.embedder),
    });
    try {
      io.stdout.write(formatReport(await idx.indexFolder(positionals[0]!)));
      return 0;
    } catch (err) {
      return fail(io, err);
    } finally {
      idx.close();
    }
  },
};

const evalCmd: Subcommand = {
  summary: 'Retrieval recall@5 and MRR for vector, full-text and hybrid search.',
  help: `Usage: harmonia faq eval [--docs DIR] [--questions FILE.jsonl] [--embedder NAME] [--misses]

Indexes the docs into a temporary table and prints one line per search mode, e.g. 'hybrid recall@5 0.94 mrr 0.81'.
Question rows are {"question": ..., "answer_doc": "<file name>"}. Defaults: the bundled Harmonia docs and questions.

  --docs DIR        docs folder (default: bundled)
  --questions FILE  JSONL questions (default: bundled)
  --embedder NAME   use-lite (default) or hashing
  --misses          also list the questions each mode missed`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      docs: { type: 'string' },
      questions: { type: 'string' },
      embedder: { type: 'string' },
      misses: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const embedder = embedderOf(values.embedder);
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-faq-eval-'));
    const idx = await FaqIndex.open({ uri: dir, embedder });
    try {
      const questions = await loadQuestions(values.questions ?? bundledQuestionsFile);
      const report = await idx.indexFolder(values.docs ?? bundledDocsDir);
      for (const s of report.skipped) io.stderr.write(`skipped ${s.reason}\n`);
      for (const score of await evaluate(idx, questions)) {
        io.stdout.write(`${formatScore(score)}\n`);
        if (values.misses)
          for (const m of score.misses)
            io.stdout.write(`  miss ${m.expected}: ${m.question} → ${m.got.join(', ')}\n`);
      }
      return 0;
    } catch (err) {
      return fail(io, err);
    } finally {
      idx.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};

const ask: Subcommand = {
  summary: 'Ask the FAQ support agent one question.',
  help: `Usage: harmonia faq ask "QUESTION" [--backend SPEC] [--model NAME] [--docs DIR] [--db PATH]

Indexes the docs (incrementally), then asks the support agent, which searches them with faq.search/faq.get and
answers with citations. Prints the answer, then the cited entries.

${backendFlagsHelp()}
  --docs DIR            docs folder (default: the bundled Harmonia docs)
  --db PATH             LanceDB folder or URI (default $HARMONIA_DB or ~/.cache/harmonia/faq)
  --embedder NAME       use-lite (default) or hashing`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      ...BACKEND_FLAGS,
      docs: { type: 'string' },
      db: { type: 'string' },
      embedder: { type: 'string' },
    });
    const question = positionals.join(' ').trim();
    if (!question) throw new UsageError('harmonia faq ask needs a question');
    try {
      const backend = await backendWithHelp(values, BACKEND_HELP);
      const agent = await createFaqAgent({
        backend,
        embedder: embedderOf(values.embedder),
        ...(values.docs ? { docsDir: values.docs } : {}),
        ...(values.db ? { db: values.db } : {}),
      });
      try {
        const reply = await agent.bot.ask('cli', question);
        io.stdout.write(`${reply.text}\n`);
        for (const id of reply.citations) {
          const e = await agent.index.get(id);
          io.stdout.write(`  [faq:${id}] ${e ? e.text.split('\n')[0] : '(not in the index)'}\n`);
        }
        return reply.status === 'completed' ? 0 : 3;
      } finally {
        agent.index.close();
      }
    } catch (err) {
      return fail(io, err);
    }
  },
};

export function fail(io: CliIO, err: unknown): number {
  if (err instanceof UsageError || err instanceof BackendSpecError) throw err;
  if (err instanceof BackendUnavailableError || err instanceof FaqIndexError) {
    io.stderr.write(`${err.message}\n`);
    return 1;
  }
  const cause = (err as { cause?: { code?: string } }).cause?.code;
  if (cause === 'ECONNREFUSED' || cause === 'ENOTFOUND') {
    io.stderr.write(`The model backend is not reachable (${cause}).\n\n${BACKEND_HELP}`);
    return 1;
  }
  io.stderr.write(`${(err as Error).name}: ${(err as Error).message}\n`);
  return 1;
}

export const faqCommand = commandGroup('faq', 'RAG FAQ agent: index, ask, eval.', {
  index,
  ask,
  eval: evalCmd,
});
