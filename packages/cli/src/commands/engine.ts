import {
  EngineError,
  type EngineOptions,
  ensureNativeBuilt,
  NativeEngine,
  nativeBuilt,
  writeSyntheticCheckpoint,
} from '@harmonia/engine';
import {
  type CliIO,
  commandGroup,
  type FlagOptions,
  parseFlags,
  type Subcommand,
  UsageError,
} from '../command.js';

function parse(args: string[], options: FlagOptions): Record<string, string | boolean | undefined> {
  return parseFlags(args, options).values as Record<string, string | boolean | undefined>;
}

function required(v: Record<string, string | boolean | undefined>, key: string): string {
  const s = v[key];
  if (typeof s !== 'string' || s === '') throw new UsageError(`--${key} is required`);
  return s;
}

/** The checkpoint folder: --checkpoint, or the older --model. */
function checkpointOf(v: Record<string, string | boolean | undefined>): string {
  if (typeof v.checkpoint === 'string' && typeof v.model === 'string' && v.checkpoint !== v.model)
    throw new UsageError('give --checkpoint DIR (or the older --model DIR), not both');
  const dir = v.checkpoint ?? v.model;
  if (typeof dir !== 'string' || dir === '') throw new UsageError('--checkpoint DIR is required');
  return dir;
}

function int(v: string | boolean | undefined, flag: string, fallback?: number): number | undefined {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < 0)
    throw new UsageError(`--${flag} must be a non-negative integer`);
  return n;
}

function tokens(v: Record<string, string | boolean | undefined>): number[] {
  const s = required(v, 'tokens');
  const ids = s.split(',').map((t) => Number(t.trim()));
  if (ids.some((t) => !Number.isInteger(t) || t < 0))
    throw new UsageError(`--tokens must be comma-separated token ids, got '${s}'`);
  return ids;
}

function yarn(v: string | boolean | undefined): 'reference' | 'llama.cpp' {
  if (v === undefined || v === 'reference' || v === 'llama.cpp') return v ?? 'reference';
  throw new UsageError(`--yarn must be 'reference' or 'llama.cpp'`);
}

/** Engine failures (bad checkpoint, bad token) are user errors: print the message, exit 1. */
async function guarded(io: CliIO, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof EngineError) {
      io.stderr.write(`harmonia engine: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

const synth: Subcommand = {
  summary: 'Write a random-weight checkpoint in the Hugging Face gpt-oss format.',
  help: [
    'Usage: harmonia engine synth --out DIR --preset tiny|20b [--layers N] [--seed S] [--layout hf|original|both]',
    '                             [--vocab N]',
    '',
    'Writes config.json + model-*.safetensors with the real tensor names, shapes, dtypes and MXFP4 packing.',
    "'tiny' is small enough for tests; '20b' has gpt-oss-20b's dimensions (about 13 GB for 24 layers).",
    "'tiny' has a 256-token vocabulary; '--vocab 201088' gives it the real one, so Harmony prompts fit",
    "(then 'harmonia chat --backend native:DIR' produces tokens — not sense: the weights are random).",
  ].join('\n'),
  async run(args, io) {
    const v = parse(args, {
      out: { type: 'string' },
      preset: { type: 'string' },
      layers: { type: 'string' },
      seed: { type: 'string' },
      layout: { type: 'string' },
      vocab: { type: 'string' },
    });
    const out = required(v, 'out');
    const preset = required(v, 'preset');
    if (preset !== 'tiny' && preset !== '20b') throw new UsageError(`--preset must be 'tiny' or '20b'`);
    const layout = (v.layout as string | undefined) ?? 'hf';
    if (layout !== 'hf' && layout !== 'original' && layout !== 'both')
      throw new UsageError(`--layout must be hf, original or both`);
    const layers = int(v.layers, 'layers');
    if (layers === 0) throw new UsageError('--layers must be at least 1');
    const vocabSize = int(v.vocab, 'vocab');
    if (vocabSize !== undefined && vocabSize < 2) throw new UsageError('--vocab must be at least 2');
    const r = writeSyntheticCheckpoint({
      out,
      preset,
      layout,
      seed: int(v.seed, 'seed', 1)!,
      ...(layers !== undefined ? { layers } : {}),
      ...(vocabSize !== undefined ? { overrides: { vocabSize } } : {}),
    });
    io.stdout.write(`${JSON.stringify({ out, preset, layers: r.config.numLayers, files: r.files })}\n`);
    return 0;
  },
};

const engineOptions = {
  checkpoint: { type: 'string' },
  /** Older name of --checkpoint (elsewhere --model names a server's model, not a folder). */
  model: { type: 'string' },
  tokens: { type: 'string' },
  yarn: { type: 'string' },
  threads: { type: 'string' },
  prefill: { type: 'string' },
  decode: { type: 'string' },
} as const;

/** --prefill / --decode: the engine's precision options (default fp32, exact). */
function precisions(v: Record<string, unknown>): Pick<EngineOptions, 'prefill' | 'decode'> {
  const out: Pick<EngineOptions, 'prefill' | 'decode'> = {};
  if (v.prefill !== undefined) {
    if (v.prefill !== 'fp32' && v.prefill !== 'int8' && v.prefill !== 'bf16')
      throw new UsageError(`--prefill must be fp32, int8 or bf16`);
    out.prefill = v.prefill;
  }
  if (v.decode !== undefined) {
    if (v.decode !== 'fp32' && v.decode !== 'int8') throw new UsageError(`--decode must be fp32 or int8`);
    out.decode = v.decode;
  }
  return out;
}

const logits: Subcommand = {
  summary: 'Print full-vocabulary logits for every input position as JSON.',
  help: [
    'Usage: harmonia engine logits --checkpoint DIR --tokens 1,2,3 [--yarn reference|llama.cpp] [--threads N]\n       [--prefill fp32|int8|bf16] [--decode fp32|int8]\n(--model DIR is the older name of --checkpoint)',
    '',
    'Prints {"logits": [[...], ...]}: one row of vocab_size floats per input token.',
  ].join('\n'),
  async run(args, io) {
    const v = parse(args, engineOptions);
    const model = checkpointOf(v);
    const ids = tokens(v);
    const y = yarn(v.yarn);
    const threads = int(v.threads, 'threads');
    const precision = precisions(v);
    return guarded(io, async () => {
      const engine = NativeEngine.open(model, { yarn: y, ...(threads ? { threads } : {}), ...precision });
      const rows = await engine.logits(ids);
      io.stdout.write(`{"logits": [${rows.map((r) => JSON.stringify(Array.from(r))).join(',\n')}]}\n`);
      return 0;
    });
  },
};

const generate: Subcommand = {
  summary: 'Generate token ids from a prompt of token ids.',
  help: [
    'Usage: harmonia engine generate --checkpoint DIR --tokens 1,2,3 --max-tokens N\n(--model DIR is the older name of --checkpoint)',
    '         [--temperature T] [--top-p P] [--seed S] [--stop 200002,200012] [--threads N] [--yarn MODE]',
    '         [--prefill fp32|int8|bf16] [--decode fp32|int8]',
    '',
    "Precision: fp32 (default) is exact; int8 quantizes the MXFP4 experts' inputs per 32-value block as",
    "llama.cpp does on the CPU (faster; logits within ~0.1 of exact). 'bf16' prefill needs AVX512_BF16.",
    '',
    'Prints the generated ids, comma-separated, then a JSON line with the finish reason.',
    'Temperature 0 is greedy (the default here).',
  ].join('\n'),
  async run(args, io) {
    const v = parse(args, {
      ...engineOptions,
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      seed: { type: 'string' },
      stop: { type: 'string' },
    });
    const model = checkpointOf(v);
    const ids = tokens(v);
    const maxTokens = int(required(v, 'max-tokens'), 'max-tokens')!;
    if (maxTokens < 1) throw new UsageError('--max-tokens must be at least 1');
    const num = (key: string) => {
      const s = v[key];
      if (s === undefined) return undefined;
      const n = Number(s);
      if (typeof s !== 'string' || !Number.isFinite(n) || n < 0)
        throw new UsageError(`--${key} must be a non-negative number`);
      return n;
    };
    const temperature = num('temperature') ?? 0;
    const topP = num('top-p');
    const seed = int(v.seed, 'seed');
    const stop = typeof v.stop === 'string' ? v.stop.split(',').map(Number) : [];
    if (stop.some((t) => !Number.isInteger(t)))
      throw new UsageError('--stop must be comma-separated token ids');
    const threads = int(v.threads, 'threads');
    const precision = precisions(v);
    return guarded(io, async () => {
      const engine = NativeEngine.open(model, {
        yarn: yarn(v.yarn),
        ...(threads ? { threads } : {}),
        ...precision,
      });
      const started = performance.now();
      const r = await engine.generate(ids, {
        maxTokens,
        temperature,
        stop,
        ...(topP !== undefined ? { topP } : {}),
        ...(seed !== undefined ? { seed } : {}),
      });
      const seconds = (performance.now() - started) / 1000;
      io.stdout.write(`${r.tokens.join(',')}\n`);
      io.stdout.write(
        `${JSON.stringify({ finishReason: r.finishReason, tokens: r.tokens.length, seconds: Number(seconds.toFixed(3)) })}\n`,
      );
      return 0;
    });
  },
};

const build: Subcommand = {
  summary: 'Build the native addon now (otherwise it is built on first use), showing progress.',
  help: `Usage: harmonia engine build [--force]

Compiles the C++ engine (needs a C++ compiler, make and python3; about 1-2 minutes). Installing Harmonia does not
compile it; the first native:DIR backend or engine command does, or this command ahead of time.`,
  async run(args, io) {
    const v = parse(args, { force: { type: 'boolean', default: false } });
    if (nativeBuilt() && !v.force) {
      io.stdout.write('the native engine is already built (--force rebuilds it)\n');
      return 0;
    }
    await ensureNativeBuilt({
      force: v.force === true,
      onProgress: (line, s) => io.stderr.write(`[${s.toFixed(0).padStart(3)}s] ${line.trim()}\n`),
    });
    io.stdout.write('the native engine is built\n');
    return 0;
  },
};

export const engineCommand = commandGroup('engine', 'Native MXFP4 engine: build, synth, logits, generate.', {
  build,
  synth,
  logits,
  generate,
});
