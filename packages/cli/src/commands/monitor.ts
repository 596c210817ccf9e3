/**
 * `harmonia monitor train|score`: the embedded on-task monitor of the support bot. `train` builds the dataset
 * from docs (on-task text generated from each section, plus the shipped off-task and attack examples), trains
 * and calibrates the classifier, and writes a model file that `harmonia start --monitor-model FILE` uses.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  buildDataset,
  bundledDocsDir,
  type DatasetDomain,
  EmbeddedMonitor,
  readDocSections,
  supportInstructions,
  trainMonitor,
  useLiteWords,
} from '@harmonia/support';
import { commandGroup, parseFlags, readStdin, type Subcommand, UsageError } from '../command.js';
import { embedderOf } from './faq.js';

export function defaultMonitorModelPath(): string {
  return join(homedir(), '.cache', 'harmonia', 'monitor.json');
}

const train: Subcommand = {
  summary: "Train the on-task monitor on a bot's own docs.",
  help: `Usage: harmonia monitor train --docs DIR [--docs DIR ...] [--heldout-docs DIR] [--out FILE] [--data-out DIR]

Builds the training data from the docs (on-task sentences and questions generated from every section, plus the
shipped off-task and attack examples across many domains), holds out every fourth seed example, every fifth
generated one and all of --heldout-docs, trains the classifier, calibrates its threshold on the training split
and prints precision / recall on both splits. Takes about a minute (each new word is embedded once with USE-lite).

  --docs DIR          docs the bot answers from (repeatable); the bundled Harmonia docs are always added
  --heldout-docs DIR  docs used only for evaluation (a product the model never saw)
  --out FILE          model file (default ~/.cache/harmonia/monitor.json); use it with harmonia start --monitor-model
  --data-out DIR      also write the dataset there as train.jsonl and heldout.jsonl
  --embedder NAME     use-lite (default) or hashing (no model; for tests only)`,
  async run(args, io) {
    const { values } = parseFlags(args, {
      docs: { type: 'string', multiple: true },
      'heldout-docs': { type: 'string' },
      out: { type: 'string' },
      'data-out': { type: 'string' },
      embedder: { type: 'string' },
    });
    const dirs = values.docs ?? [];
    if (!dirs.length) throw new UsageError('harmonia monitor train needs --docs DIR');
    const domains: DatasetDomain[] = [];
    const seen = new Set<string>();
    for (const dir of [...dirs, bundledDocsDir]) {
      const abs = resolve(dir);
      if (seen.has(abs)) continue;
      seen.add(abs);
      domains.push({ name: domainName(abs, domains.length), sections: await readDir(abs) });
    }
    const held = values['heldout-docs'];
    if (held)
      domains.push({
        name: domainName(resolve(held), domains.length),
        sections: await readDir(held),
        heldout: true,
      });
    const rows = buildDataset(domains);
    const {
      model,
      train: tr,
      heldout,
    } = await trainMonitor(domains, rows, {
      embedder: embedderOf(values.embedder),
      ...(values.embedder === 'hashing' ? {} : { extraWords: await useLiteWords() }),
      onProgress: (line) => io.stderr.write(`${line}\n`),
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

function domainName(abs: string, i: number): string {
  const b = basename(abs);
  return b === 'docs' ? basename(dirname(abs)) || `docs${i}` : b;
}

export const monitorCommand = commandGroup('monitor', "The support bot's on-task monitor: train, score.", {
  train,
  score,
});
