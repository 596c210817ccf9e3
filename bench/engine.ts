/**
 * Native engine benchmark: decode and prefill tokens/s on a synthetic checkpoint with gpt-oss-20b dimensions,
 * 1 and 2 threads, against llama.cpp (node-llama-cpp from test/optional/engine-oracle, same weights converted
 * to GGUF: bf16 dense, MXFP4 experts; no mmap) in the same run, plus achieved memory bandwidth as a share of
 * the bandwidth measured in the same run.
 *
 *   pnpm -s build && pnpm --filter @harmonia/engine run build:native
 *   (cd test/optional/engine-oracle && npm install)        # optional: the llama.cpp peer
 *   node --import tsx bench/engine.ts [--layers 2] [--prompt 128] [--decode 32] [--rounds 3] [--dir PATH] [--keep]
 *                                     [--prefill fp32,int8,bf16] [--threads 1,2] [--weights copy|mmap] [--no-llama]
 *
 * `--prefill` lists the precisions measured (default fp32,int8): rows "harmonia" = exact fp32 prefill and
 * decode, "harmonia, int8" = `prefill: 'int8'` and `decode: 'int8'` (int8 activations for the MXFP4 experts, as
 * llama.cpp computes them on the CPU), "harmonia, bf16 prefill" = bf16 prefill with fp32 decode. `--weights` is
 * the engine's `weights` option (default `copy`: huge-page memory, like the bandwidth probe's buffer).
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  measureReadBandwidth,
  NativeEngine,
  openCheckpoint,
  presetConfig,
  writeGguf,
  writeSyntheticCheckpoint,
} from '@harmonia/engine';

const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: '2' },
    prompt: { type: 'string', default: '128' },
    decode: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string', default: '/tmp/harmonia-bench-engine' },
    keep: { type: 'boolean', default: false },
    'no-llama': { type: 'boolean', default: false },
    prefill: { type: 'string', default: 'fp32,int8' },
    threads: { type: 'string', default: '1,2' },
    weights: { type: 'string', default: 'copy' },
  },
});
type Precision = 'fp32' | 'int8' | 'bf16';
const PRECISIONS = args
  .prefill!.split(',')
  .filter((p): p is Precision => ['fp32', 'int8', 'bf16'].includes(p));
const THREADS = args.threads!.split(',').map(Number);
if (!PRECISIONS.includes('fp32')) PRECISIONS.unshift('fp32'); // the baseline row and the per-layer estimate
const LAYERS = Number(args.layers);
const PROMPT = Number(args.prompt);
const DECODE = Number(args.decode);
const ROUNDS = Number(args.rounds);
const dir = args.dir!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const GB = 1e9;

const cfg = presetConfig('20b', LAYERS);
const { hiddenSize: H, intermediateSize: I, vocabSize: V, numExperts: E } = cfg;
const nq = cfg.numHeads * cfg.headDim;
const nkv = cfg.numKvHeads * cfg.headDim;
// Bytes one decoded token reads: bf16 attention + router, 4 MXFP4 experts (17 B per 32 weights), bf16 lm_head.
const perLayerBytes = (nq * H * 2 + nkv * H * 2 + E * H) * 2 + (cfg.expertsPerToken * (3 * I * H * 17)) / 32;
const bytesPerToken = (layers: number) => layers * perLayerBytes + V * H * 2;

// ---- checkpoint
// A checkpoint kept (--keep) by a run with another layer count is replaced, never silently reused.
if (existsSync(join(dir, 'config.json'))) {
  let layers: number | undefined;
  try {
    layers = openCheckpoint(dir).config.numLayers;
  } catch {
    layers = undefined;
  }
  if (layers !== LAYERS) {
    console.log(
      `${dir} holds ${layers === undefined ? 'an unreadable' : `a ${layers}-layer`} checkpoint: rewriting it`,
    );
    rmSync(dir, { recursive: true, force: true });
  }
}
const freeGB =
  Number(
    execSync(`df -B1 --output=avail ${JSON.stringify(existsSync(dir) ? dir : '/tmp')} | tail -1`).toString(),
  ) / GB;
const needGB =
  ((bytesPerToken(0) + LAYERS * ((E * 3 * I * H * 17) / 32 + (2 * nq * H + 2 * nkv * H) * 2)) / GB) * 2.1;
console.log(
  `disk: ${freeGB.toFixed(0)} GB free, this run needs ~${needGB.toFixed(1)} GB (checkpoint + GGUF)`,
);
if (freeGB < needGB) throw new Error('not enough disk space; pass --layers with a smaller number');
mkdirSync(dir, { recursive: true });
let t0 = performance.now();
if (!existsSync(join(dir, 'config.json')))
  writeSyntheticCheckpoint({ out: dir, preset: '20b', layers: LAYERS, seed: 1 });
const ckpt = openCheckpoint(dir);
const ckptBytes = ckpt.files.reduce((a, f) => a + statSync(f).size, 0);
console.log(
  `checkpoint: 20b preset, ${LAYERS} layers, ${(ckptBytes / GB).toFixed(2)} GB (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
);

// ---- bandwidth probe
// Probed at the start and again after every measured configuration (the host's bandwidth drifts when it is
// shared); each row's share uses the median of all probes of its thread count.
const bw: Record<number, number> = {};
const bwSamples: Record<number, number[]> = { 1: [], 2: [] };
const probe = (reps: number) => {
  for (const t of [1, 2]) {
    bwSamples[t]!.push(measureReadBandwidth(1 << 30, t, reps));
    bw[t] = median(bwSamples[t]!);
  }
};
probe(7);
console.log(
  `measured DRAM read bandwidth (median of 7 x 1 GiB): 1 thread ${bw[1]!.toFixed(1)} GB/s, 2 threads ${bw[2]!.toFixed(1)} GB/s`,
);

const prompt = Array.from({ length: PROMPT }, (_, i) => 300 + ((i * 7919) % 199000));

interface Result {
  prefill: number;
  decode: number;
}

async function ours(threads: number, maxLayers?: number, prefill: Precision = 'fp32'): Promise<Result> {
  const engine = NativeEngine.open(dir, {
    threads,
    pin: true,
    prefill,
    decode: prefill === 'int8' ? 'int8' : 'fp32',
    weights: args.weights === 'mmap' ? 'mmap' : 'copy',
    ...(maxLayers ? { maxLayers } : {}),
  });
  // An addon built before `decode` existed ignores it: the int8 rows would silently decode in fp32.
  const info = engine.info();
  if (info.prefill !== prefill || info.decode !== (prefill === 'int8' ? 'int8' : 'fp32'))
    throw new Error(
      `the native addon runs prefill ${info.prefill} / decode ${String(info.decode)} where ${prefill} was asked: it is older than this checkout; rebuild it with 'pnpm --filter @harmonia/engine run build:native'`,
    );
  const sampleRss = () => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };
  const pre: number[] = [];
  const dec: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await engine.reset();
    let s = performance.now();
    await engine.evaluate(prompt);
    pre.push(PROMPT / ((performance.now() - s) / 1000));
    const stamps: number[] = [];
    s = performance.now();
    await engine.generate(prompt, {
      maxTokens: DECODE + 1,
      temperature: 0,
      onTokens: () => stamps.push(performance.now()),
    });
    dec.push(DECODE / ((stamps.at(-1)! - stamps[0]!) / 1000));
    sampleRss();
  }
  await engine.close();
  return { prefill: median(pre), decode: median(dec) };
}

let peakRss = 0;
const results: Record<string, Result> = {};
const label: Record<Precision, string> = { fp32: 'ours', int8: 'ours/int8', bf16: 'ours/bf16' };
for (const prefill of PRECISIONS) {
  for (const threads of THREADS) {
    const r = await ours(threads, undefined, prefill);
    probe(3);
    results[`${label[prefill]}-${threads}`] = r;
    console.log(
      `ours   ${threads}T${prefill === 'fp32' ? '' : prefill === 'int8' ? ', int8' : `, ${prefill} prefill`}: prefill ${r.prefill.toFixed(1)} tok/s, decode ${r.decode.toFixed(2)} tok/s`,
    );
  }
}
const rss = peakRss;
console.log(
  `peak resident memory in our runs: ${(rss / GB).toFixed(2)} GB (checkpoint ${(ckptBytes / GB).toFixed(2)} GB, every page mapped at load; KV cache ${((2 * LAYERS * nkv * 4 * (PROMPT + DECODE + 1)) / GB).toFixed(3)} GB)`,
);
// Per-layer time: the same checkpoint with one layer fewer, decode at 2 threads, in the fastest configuration
// measured (int8 when its rows are on).
const baseKey = results['ours/int8-2'] ? 'ours/int8-2' : 'ours-2';
let perLayerMs: number | undefined;
if (LAYERS >= 2 && results[baseKey]) {
  const fewer = await ours(2, LAYERS - 1, baseKey === 'ours/int8-2' ? 'int8' : 'fp32');
  perLayerMs = 1000 / results[baseKey]!.decode - 1000 / fewer.decode;
  console.log(
    `ours   2T${baseKey === 'ours-2' ? '' : ', int8'} with ${LAYERS - 1} layers: decode ${fewer.decode.toFixed(2)} tok/s -> ${perLayerMs.toFixed(2)} ms per layer`,
  );
}

// ---- llama.cpp peer
let llamaAvailable = false;
if (!args['no-llama']) {
  const req = createRequire(join(process.cwd(), 'test/optional/engine-oracle/package.json'));
  let nlc: typeof import('node-llama-cpp') | undefined;
  try {
    nlc = (await import(req.resolve('node-llama-cpp'))) as typeof import('node-llama-cpp');
  } catch (e) {
    console.log(
      `llama.cpp peer skipped: node-llama-cpp not installed in test/optional/engine-oracle (${(e as Error).message.split('\n')[0]})`,
    );
  }
  if (nlc) {
    const gguf = join(dir, 'model-bf16-mxfp4.gguf');
    t0 = performance.now();
    if (!existsSync(gguf)) writeGguf(ckpt, gguf, { dense: 'BF16', experts: 'MXFP4' });
    console.log(
      `GGUF for llama.cpp: ${(statSync(gguf).size / GB).toFixed(2)} GB (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    );
    const llama = await nlc.getLlama({ gpu: false, build: 'never', logLevel: nlc.LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: gguf, useMmap: false });
    for (const threads of THREADS) {
      const ctx = await model.createContext({
        contextSize: 1024,
        batchSize: 512,
        threads,
        flashAttention: true,
      });
      const seq = ctx.getSequence();
      const pre: number[] = [];
      const dec: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        await seq.clearHistory();
        let s = performance.now();
        await seq.evaluateWithoutGeneratingNewTokens(prompt);
        pre.push(PROMPT / ((performance.now() - s) / 1000));
        const stamps: number[] = [];
        s = performance.now();
        for await (const _ of seq.evaluate([prompt[0]!], { temperature: 0 })) {
          stamps.push(performance.now());
          if (stamps.length > DECODE) break;
        }
        dec.push(DECODE / ((stamps.at(-1)! - stamps[0]!) / 1000));
      }
      results[`llama-${threads}`] = { prefill: median(pre), decode: median(dec) };
      probe(3);
      console.log(
        `llama.cpp ${threads}T: prefill ${median(pre).toFixed(1)} tok/s, decode ${median(dec).toFixed(2)} tok/s`,
      );
      await ctx.dispose();
    }
    await model.dispose();
    await llama.dispose();
    llamaAvailable = true;
  }
}

// ---- summary
console.log(
  `\nbandwidth probes in this run (GB/s): 1 thread ${bwSamples[1]!.map((x) => x.toFixed(1)).join(', ')} (median ${bw[1]!.toFixed(1)}); 2 threads ${bwSamples[2]!.map((x) => x.toFixed(1)).join(', ')} (median ${bw[2]!.toFixed(1)})`,
);
console.log(
  '\n| engine | threads | prefill tok/s | decode tok/s | decode GB/s | share of measured bw | vs llama.cpp (prefill / decode) |',
);
console.log('|---|---|---|---|---|---|---|');
for (const key of Object.keys(results)) {
  const [who, t] = key.split('-') as [string, string];
  const r = results[key]!;
  const gbs = (r.decode * bytesPerToken(LAYERS)) / GB;
  const peer = results[`llama-${t}`];
  const ratio =
    who.startsWith('ours') && peer
      ? `${(r.prefill / peer.prefill).toFixed(2)}x / ${(r.decode / peer.decode).toFixed(2)}x`
      : '';
  console.log(
    `| ${who === 'ours' ? 'harmonia' : who === 'ours/bf16' ? 'harmonia, bf16 prefill' : who === 'ours/int8' ? 'harmonia, int8' : 'llama.cpp'} | ${t} | ${r.prefill.toFixed(1)} | ${r.decode.toFixed(2)} | ${gbs.toFixed(1)} | ${((100 * gbs) / bw[Number(t)]!).toFixed(0)}% | ${ratio} |`,
  );
}
console.log(
  `\nbytes read per decoded token: ${(bytesPerToken(LAYERS) / GB).toFixed(3)} GB at ${LAYERS} layers, ${(bytesPerToken(24) / GB).toFixed(3)} GB at 24 layers`,
);
if (perLayerMs !== undefined && perLayerMs <= 0) {
  console.log('per-layer time came out non-positive: the host was too noisy in this run to separate it');
} else if (perLayerMs !== undefined) {
  const t24 = 1000 / results[baseKey]!.decode + (24 - LAYERS) * perLayerMs;
  console.log(
    `extrapolated 24-layer decode at 2 threads${baseKey === 'ours-2' ? '' : ', int8'}: ${(1000 / t24).toFixed(2)} tok/s (${LAYERS}-layer time + ${24 - LAYERS} x ${perLayerMs.toFixed(2)} ms; roofline at the measured ${bw[2]!.toFixed(1)} GB/s: ${((bw[2]! * GB) / bytesPerToken(24)).toFixed(2)} tok/s)`,
  );
}
if (!llamaAvailable) console.log('llama.cpp was not measured in this run.');
if (!args.keep) {
  rmSync(dir, { recursive: true, force: true });
  console.log(`removed ${dir}`);
}
