/**
 * On-task monitor latency: the embedded monitor (word vectors + trained classifier) vs the keyword rules (the
 * peer), both judging the same sentences in the same run. Each sentence is distinct, so the monitor's cache
 * never answers. Wall-clock time includes the time the process waits for a CPU on a loaded machine; CPU time
 * (process.cpuUsage) is the monitor's own work. Also measured: answers as they stream (the runtime calls the
 * monitor with the answer so far at each sentence end), per sentence.
 * Run from the repo root: node --import tsx bench/monitor.ts [--sentences 2000] [--rounds 3]
 */
import { loadavg } from 'node:os';
import { patternMonitor } from '@harmonia/core';
import {
  bundledDocsDir,
  EmbeddedMonitor,
  OFF_TASK_RULES,
  readDocSections,
  supportInstructions,
  UNSAFE_RULES,
} from '@harmonia/support';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--sentences', 2000);
const ROUNDS = arg('--rounds', 3);

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

interface Timing {
  wall: number[];
  cpu: number[];
}

async function time(items: string[], fn: (s: string) => Promise<unknown>, perItem = 1): Promise<Timing> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (const s of items) {
    const c0 = process.cpuUsage();
    const t = performance.now();
    await fn(s);
    wall.push((performance.now() - t) / perItem);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / perItem);
  }
  return { wall, cpu };
}

const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f = (x: number) => (x >= 1 ? `${x.toFixed(2)} ms` : `${(x * 1000).toFixed(0)} µs`);
const stats = (xs: number[]) =>
  `mean ${f(mean(xs))}  p50 ${f(q(xs, 0.5))}  p95 ${f(q(xs, 0.95))}  p99 ${f(q(xs, 0.99))}`;

console.log(
  `monitor setup (load model, embed ${sections.length} doc sections as word-vector means): ${setup.toFixed(0)} ms`,
);
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
let results: { emb: Timing; kw: Timing; streamed: Timing }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const tag = (k: number) => `(round ${r} case ${k})`;
  const sentences = Array.from({ length: N }, (_, k) => `${base[k % base.length]} ${tag(k)}.`);
  // Six-sentence on-task answers (so every sentence is judged), checked at every sentence end as they stream.
  const onTask = [base[0]!, base[2]!];
  const answers = Array.from({ length: Math.ceil(N / 6) }, (_, k) =>
    Array.from({ length: 6 }, (_, j) => `${onTask[(k + j) % 2]} ${tag(k * 6 + j)} streamed.`),
  );
  await time(
    sentences.map((s) => `Warm-up: ${s}`),
    (s) => monitor.checkAnswer(s, ctx),
  );
  const emb = await time(sentences, (s) => monitor.checkAnswer(s, ctx));
  const kw = await time(sentences, (s) => keyword.check(s, ctx));
  const streamed = await time(
    answers.map((a) => a.join('\u0000')),
    async (joined) => {
      const parts = joined.split('\u0000');
      for (let j = 1; j <= parts.length; j++) await monitor.checkAnswer(parts.slice(0, j).join(' '), ctx);
    },
    6,
  );
  results.push({ emb, kw, streamed });
}
const all = (k: 'emb' | 'kw' | 'streamed', m: keyof Timing) => results.flatMap((r) => r[k][m]);
console.log(`per sentence, ${ROUNDS} rounds × ${N} distinct sentences (wall clock | CPU time):`);
console.log(`  embedded monitor   wall ${stats(all('emb', 'wall'))}`);
console.log(`                     cpu  ${stats(all('emb', 'cpu'))}`);
console.log(`  streamed answers   wall ${stats(all('streamed', 'wall'))}`);
console.log(`                     cpu  ${stats(all('streamed', 'cpu'))}`);
console.log(`  keyword rules      wall ${stats(all('kw', 'wall'))}`);
const e = all('emb', 'wall');
console.log(
  `  ratio (mean wall) ${(mean(e) / mean(all('kw', 'wall'))).toFixed(0)}× the keyword rules; goal < 5 ms per sentence (wall): mean ${mean(e) < 5 ? 'met' : 'not met'}, p95 ${q(e, 0.95) < 5 ? 'met' : 'not met'}, p99 ${q(e, 0.99) < 5 ? 'met' : 'not met'}`,
);
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
results = [];
