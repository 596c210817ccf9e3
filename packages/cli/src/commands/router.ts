import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  costsFromPrices,
  crossValidateRouter,
  defaultWeights,
  evaluateRouter,
  formatEvalReport,
  RouteConfigError,
  Router,
  RouterModel,
  readDataset,
  readPriceTable,
  readWeightsFile,
  trainRouter,
} from '@harmonia/router';
import { commandGroup, type Subcommand, UsageError } from '../command.js';

/** Runs `parseArgs`, turning its errors into usage errors. */
function parse<T>(cmd: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw new UsageError(`harmonia router ${cmd}: ${(err as Error).message}`);
  }
}

function intFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return n;
}

function fractionFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new UsageError(`--${name} must be a number in [0, 1), got '${value}'`);
  return n;
}

const train: Subcommand = {
  summary: 'train router weights from JSONL rows',
  help: `Usage: harmonia router train --data FILE.jsonl [--data FILE2.jsonl ...] --out weights.json [--seed N] [--epochs N] [--holdout F]

Rows: {"prompt": ..., and any of "weak_correct"/"strong_correct" (booleans), "level" (1-5), "model" ("20b"|"120b"),
"effort" ("low"|"medium"|"high")}. Files may be gzipped (.jsonl.gz). A hash-chosen share of rows (--holdout,
default 0.2) is never trained on; 'router eval' scores exactly those rows. Same data and seed give identical weights.`,
  async run(args, io) {
    const { values } = parse('train', () =>
      parseArgs({
        args,
        options: {
          data: { type: 'string', multiple: true },
          out: { type: 'string' },
          seed: { type: 'string' },
          epochs: { type: 'string' },
          holdout: { type: 'string' },
        },
      }),
    );
    if (!values.data?.length) throw new UsageError('harmonia router train: --data FILE.jsonl is required');
    if (!values.out) throw new UsageError('harmonia router train: --out weights.json is required');
    const options = {
      seed: intFlag(values.seed, 'seed', 1),
      epochs: intFlag(values.epochs, 'epochs', 10),
      holdoutFraction: fractionFlag(values.holdout, 'holdout'),
    };
    const datasets = values.data.map((d) => readDataset(d));
    const started = Date.now();
    const { weights, counts } = trainRouter(datasets, options);
    const json = `${JSON.stringify(weights)}\n`;
    writeFileSync(values.out, json);
    io.stdout.write(
      `trained on ${counts.train} rows (calibrated on ${counts.calibration}, held out ${counts.holdout}) in ${Date.now() - started} ms\n` +
        `wrote ${values.out} (${(json.length / 1024).toFixed(0)} KiB); 120b threshold ${weights.defaults.sizeThreshold}\n`,
    );
    return 0;
  },
};

const evaluate: Subcommand = {
  summary: 'print APGR, CPT(50%), effort accuracy and cost saved on held-out rows',
  help: `Usage: harmonia router eval --data FILE.jsonl [--data ...] [--weights FILE] [--all] [--prices FILE] [--json]
       harmonia router eval --data FILE.jsonl [--data ...] --folds K [--seed N] [--epochs N] [--json]

Scores the weights (default: the shipped ones) on the held-out rows of the data (the hash split 'router train'
used), or on every row with --all (for a file the weights never saw). Prints APGR / CPT(50%) / CPT(80%) for the
20b-vs-120b head beside length-only and random baselines, effort accuracy with a confusion matrix, and the cost
saved against always 120b-high at the default operating point.

--folds K: k-fold cross-validation instead (no weights file): each row's fold is a hash of its id; for each fold a
model is trained on the other K-1 folds with the same code as 'router train' (--seed, --epochs) and scores only
its own fold; the report pools those held-out scores.

--prices FILE: the price table the cost figures use (JSON, per model or arm, dollars per million tokens):
  {"20b": {"inputPerMTok": 0.05, "outputPerMTok": 0.2}, "120b-high": {"expectedOutputTokens": 6000}}
Default: the table in docs/router.md.`,
  async run(args, io) {
    const { values } = parse('eval', () =>
      parseArgs({
        args,
        options: {
          data: { type: 'string', multiple: true },
          weights: { type: 'string' },
          all: { type: 'boolean' },
          json: { type: 'boolean' },
          folds: { type: 'string' },
          seed: { type: 'string' },
          epochs: { type: 'string' },
          prices: { type: 'string' },
        },
      }),
    );
    const policy = values.prices ? { costs: pricesFlag(values.prices) } : undefined;
    if (!values.data?.length) throw new UsageError('harmonia router eval: --data FILE.jsonl is required');
    const folds = values.folds === undefined ? undefined : intFlag(values.folds, 'folds', 5);
    if (folds !== undefined && folds < 2)
      throw new UsageError(`--folds must be at least 2, got '${values.folds}'`);
    if (folds !== undefined && (values.weights || values.all))
      throw new UsageError('harmonia router eval: --folds trains its own models; drop --weights and --all');
    if (folds === undefined && (values.seed !== undefined || values.epochs !== undefined))
      throw new UsageError('harmonia router eval: --seed and --epochs go with --folds');
    const datasets = values.data.map((d) => readDataset(d));
    let report: ReturnType<typeof evaluateRouter>;
    if (folds !== undefined) {
      report = crossValidateRouter(datasets, {
        folds,
        train: { seed: intFlag(values.seed, 'seed', 1), epochs: intFlag(values.epochs, 'epochs', 10) },
        ...(policy ? { policy } : {}),
        onFold: (f, trained, scored) =>
          io.stderr.write(`fold ${f + 1}/${folds}: trained on ${trained} rows, scored ${scored}\n`),
      });
    } else {
      const weights = values.weights ? readWeightsFile(values.weights) : defaultWeights();
      report = evaluateRouter(datasets, { weights, all: values.all === true, ...(policy ? { policy } : {}) });
    }
    io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatEvalReport(report));
    return 0;
  },
};

const route: Subcommand = {
  summary: 'route one prompt: prints {"model","effort","scores"}',
  help: `Usage: harmonia router route "TEXT" [--weights FILE] [--prices FILE] [--max-cost DOLLARS] [--explain]

Prints {"model":"20b"|"120b","effort":"low"|"medium"|"high","scores":{...}} as one JSON line; --explain adds
"reason". --prices sets the price table (see 'router eval --help'); --max-cost is the policy's budget per call.`,
  async run(args, io) {
    const { values, positionals } = parse('route', () =>
      parseArgs({
        args,
        options: {
          weights: { type: 'string' },
          explain: { type: 'boolean' },
          prices: { type: 'string' },
          'max-cost': { type: 'string' },
        },
        allowPositionals: true,
      }),
    );
    const text = positionals.join(' ');
    if (text.trim() === '')
      throw new UsageError('harmonia router route: give the prompt text, e.g. router route "hi"');
    const model = values.weights ? new RouterModel(readWeightsFile(values.weights)) : undefined;
    const maxCost = values['max-cost'] === undefined ? undefined : Number(values['max-cost']);
    if (maxCost !== undefined && !(maxCost > 0))
      throw new UsageError(`--max-cost must be a positive number of dollars, got '${values['max-cost']}'`);
    const r = new Router({
      model,
      policy: {
        ...(values.prices ? { costs: pricesFlag(values.prices) } : {}),
        ...(maxCost !== undefined ? { maxCostPerCall: maxCost } : {}),
      },
    }).route(text);
    const out: Record<string, unknown> = { model: r.model, effort: r.effort, scores: r.scores };
    if (values.explain) out.reason = r.reason;
    io.stdout.write(`${JSON.stringify(out)}\n`);
    return 0;
  },
};

function pricesFlag(path: string) {
  try {
    return costsFromPrices(readPriceTable(path), path);
  } catch (err) {
    if (err instanceof RouteConfigError) throw new UsageError(err.message);
    throw err;
  }
}

export const routerCommand = commandGroup('router', 'Model/effort router: route, train, eval.', {
  route,
  train,
  eval: evaluate,
});
