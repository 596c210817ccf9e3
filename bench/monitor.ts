/**
 * On-task monitor latency: the embedded monitor (word vectors + trained classifier) vs the keyword rules (the
 * peer), both judging the same sentences in the same run. Each sentence is distinct, so the monitor's cache
 * never answers. Run from the repo root: node --import tsx bench/monitor.ts [--sentences 2000]
 */
import { patternMonitor } from '@harmonia/core';
import {
  bundledDocsDir,
  EmbeddedMonitor,
  OFF_TASK_RULES,
  readDocSections,
  supportInstructions,
  UNSAFE_RULES,
} from '@harmonia/support';

const i = process.argv.indexOf('--sentences');
const N = i > 0 ? Number(process.argv[i + 1]) : 2000;

const sections = await readDocSections(bundledDocsDir);
const t0 = performance.now();
const monitor = new EmbeddedMonitor({
  domain: {
    instructions: supportInstructions({ product: 'Harmonia', allowed: ['using Harmonia'] }),
    docs: sections.map((s) => s.text),
  },
});
const setup = performance.now() - t0;
const keyword = patternMonitor([...OFF_TASK_RULES, ...UNSAFE_RULES]);
const ctx = { conversationId: 'bench', input: 'q', signal: new AbortController().signal };

const base = [
  'Run ollama pull gpt-oss:20b to download the model, then point HARMONIA_BACKEND at the server',
  'Here is a poem about the sea and the gulls that cry over the harbour at night',
  'The user asks how to configure the python tool timeout; search the docs first',
  'You should put your savings into an index fund and buy more when the market dips',
];
const sentences = Array.from({ length: N }, (_, k) => `${base[k % base.length]} (case ${k}).`);

async function time(fn: (s: string) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (const s of sentences) {
    const t = performance.now();
    await fn(s);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}
const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

await time((s) => monitor.checkAnswer(`Warm-up: ${s}`, ctx)); // JIT warm-up, on other sentences
const emb = await time((s) => monitor.checkAnswer(s, ctx));
const kw = await time((s) => keyword.check(s, ctx));
const f = (x: number) => `${(x * 1000).toFixed(0)} µs`;
console.log(
  `monitor setup (load model, embed ${sections.length} doc sections as word-vector means): ${setup.toFixed(0)} ms`,
);
console.log(`per sentence, ${N} distinct sentences:`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const row = (name: string, xs: number[]) =>
  `  ${name}  mean ${f(mean(xs))}  p50 ${f(q(xs, 0.5))}  p95 ${f(q(xs, 0.95))}  p99 ${f(q(xs, 0.99))}`;
console.log(row('embedded monitor', emb));
console.log(row('keyword rules   ', kw));
console.log(
  `  ratio (mean) ${(mean(emb) / mean(kw)).toFixed(0)}×; goal < 5 ms per sentence: mean ${mean(emb) < 5 ? 'met' : 'not met'}, p95 ${q(emb, 0.95) < 5 ? 'met' : 'not met'}, p99 ${q(emb, 0.99) < 5 ? 'met' : 'not met'}`,
);
