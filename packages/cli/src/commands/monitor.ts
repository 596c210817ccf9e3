/**
 * `harmonia monitor train|score`: the embedded on-task monitor of the support bot. `train` builds the dataset
 * from docs (on-task text generated from each section, plus the shipped off-task and attack examples), trains
 * and calibrates the classifier, and writes a model file that `harmonia start --monitor-model FILE` uses.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  buildDataset,
  bundledDocsDir,
  bundledMonitorCorpora,
  bundledMonitorModel,
  type DatasetDomain,
  EmbeddedMonitor,
  readDocSections,
  supportInstructions,
  trainMonitor,
  useLiteWords,
  WordVectors,
} from '@harmonia/support';
import { commandGroup, parseFlags, readStdin, type Subcommand, UsageError } from '../command.js';
import { embedderOf } from './faq.js';

export function defaultMonitorModelPath(): string {
  return join(homedir(), '.cache', 'harmonia', 'monitor.json');
}

const train: Subcommand = {
  summary: "Train the on-task monitor on a bot's own docs.",
  help: `Usage: harmonia monitor train --docs DIR [--docs DIR ...] [--heldout-docs DIR ...] [--out FILE] [--data-out DIR]

Builds the training data from the docs (on-task sentences, questions and refusals generated from every section,
plus the shipped off-task and attack examples across many domains and styles, and off-task and attack text that
uses each product's words), holds out whole off-task topics and attack kinds, every fourth seed, template and
task of the rest, every fifth doc sentence and all of --heldout-docs, trains the classifier, calibrates its
threshold on the training split and prints precision / recall on both splits. Words new to the bundled model are
embedded once with USE-lite (about a minute).

  --docs DIR          docs the bot answers from (repeatable); the bundled Harmonia docs and the shipped
                      fictional products' docs are always added
  --heldout-docs DIR  docs used only for evaluation (a product the model never saw; repeatable)
  --out FILE          model file (default ~/.cache/harmonia/monitor.json); use it with harmonia start --monitor-model
  --data-out DIR      also write the dataset there as train.jsonl and heldout.jsonl
  --epochs N          training passes (default 300)
  --embedder NAME     use-lite (default) or hashing (no model; for tests only)`,
  async run(args, io) {
    const { values } = parseFlags(args, {
      docs: { type: 'string', multiple: true },
      'heldout-docs': { type: 'string', multiple: true },
      out: { type: 'string' },
      'data-out': { type: 'string' },
      embedder: { type: 'string' },
      epochs: { type: 'string' },
    });
    const dirs = values.docs ?? [];
    const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
    if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0))
      throw new UsageError(`--epochs must be a positive integer, got ${values.epochs}`);
    if (!dirs.length) throw new UsageError('harmonia monitor train needs --docs DIR');
    const domains: DatasetDomain[] = [];
    const seen = new Set<string>();
    const corpora = (await readdir(bundledMonitorCorpora, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => join(bundledMonitorCorpora, e.name))
      .sort();
    const add = async (dir: string, heldout: boolean) => {
      const abs = resolve(dir);
      if (seen.has(abs)) return;
      seen.add(abs);
      const name = domainName(abs, domains.length);
      domains.push({
        name,
        product: abs === resolve(bundledDocsDir) ? 'Harmonia' : productName(name),
        sections: await readDir(abs),
        ...(heldout ? { heldout: true } : {}),
      });
    };
    for (const dir of values['heldout-docs'] ?? []) await add(dir, true);
    for (const dir of [...dirs, bundledDocsDir, ...corpora]) await add(dir, false);
    const rows = buildDataset(domains);
    const {
      model,
      train: tr,
      heldout,
    } = await trainMonitor(domains, rows, {
      embedder: embedderOf(values.embedder),
      ...(values.embedder === 'hashing'
        ? {}
        : { extraWords: await useLiteWords(), base: await bundledWordVectors() }),
      onProgress: (line) => io.stderr.write(`${line}\n`),
      ...(epochs ? { epochs } : {}),
    });
    const out = values.out ?? defaultMonitorModelPath();
    await mkdir(dirname(resolve(out)), { recursive: true });
    await writeFile(out, `${JSON.stringify(model.toJSON())}\n`);
    const dataOut = values['data-out'];
    if (dataOut) {
      await mkdir(dataOut, { recursive: true });
      for (const split of ['train', 'heldout'] as const)
        await writeFile(
          join(dataOut, `${split}.jsonl`),
          rows
            .filter((r) => r.split === split)
            .map((r) => JSON.stringify(r))
            .join('\n')
            .concat('\n'),
        );
    }
    const line = (name: string, m: typeof tr) =>
      `${name.padEnd(8)} precision ${m.precision.toFixed(3)} recall ${m.recall.toFixed(3)} on-task flagged ${m.onTaskFlagged.toFixed(3)} (${m.n.off} off-task/attack, ${m.n.on} on-task)\n`;
    io.stdout.write(line('train', tr) + line('heldout', heldout));
    io.stdout.write(`threshold ${model.threshold.toFixed(3)}; model written to ${out}\n`);
    return 0;
  },
};

const score: Subcommand = {
  summary: 'Score sentences from stdin against the docs (one per line).',
  help: `Usage: harmonia monitor score [--docs DIR] [--monitor-model FILE] < sentences.txt

Prints, for every line, the probability that it is off task or an attack, and whether the monitor flags it.`,
  async run(args, io) {
    const { values } = parseFlags(args, { docs: { type: 'string' }, 'monitor-model': { type: 'string' } });
    const sections = await readDir(values.docs ?? bundledDocsDir);
    const model = values['monitor-model'];
    const m = new EmbeddedMonitor({
      domain: {
        instructions: supportInstructions({ product: 'the product', allowed: [] }),
        docs: sections.map((s) => s.text),
      },
      ...(model ? { model } : {}),
    });
    for (const line of (await readStdin(io.stdin)).split('\n').filter((l) => l.trim())) {
      const p = m.score(line);
      io.stdout.write(`${p.toFixed(3)} ${p >= m.threshold ? 'flag' : 'ok  '} ${line}\n`);
    }
    return 0;
  },
};

async function readDir(dir: string) {
  try {
    const sections = await readDocSections(dir);
    if (!sections.length) throw new UsageError(`no Markdown, HTML or text docs in ${dir}`);
    return sections;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`no such docs folder: ${dir}`);
    throw err;
  }
}

/** The bundled model's word vectors (USE-lite): only words new to them are embedded again. */
async function bundledWordVectors(): Promise<WordVectors | undefined> {
  try {
    const j = JSON.parse(await readFile(bundledMonitorModel, 'utf8')) as {
      vectors: Parameters<typeof WordVectors.fromJSON>[0];
    };
    return WordVectors.fromJSON(j.vectors);
  } catch {
    return undefined;
  }
}

function productName(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function domainName(abs: string, i: number): string {
  const b = basename(abs);
  return b === 'docs' ? basename(dirname(abs)) || `docs${i}` : b;
}

export const monitorCommand = commandGroup('monitor', "The support bot's on-task monitor: train, score.", {
  train,
  score,
});
