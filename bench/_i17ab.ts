import { NativeEngine } from '@harmonia/engine';
const layers = Number(process.env.L ?? 6);
const prompt = Array.from({ length: 128 }, (_, i) => 300 + ((i * 7919) % 199000));
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (let pass = 0; pass < Number(process.env.P ?? 2); pass++) {
  for (const d of ['fp32', 'int8'] as const) {
    const engine = NativeEngine.open('/tmp/harmonia-bench-engine', { threads: 2, pin: true, prefill: 'int8', decode: d, weights: 'copy', maxLayers: layers });
    const pre: number[] = [], dec: number[] = [];
    for (let r = 0; r < Number(process.env.R ?? 5); r++) {
      await engine.reset();
      const s = performance.now();
      await engine.evaluate(prompt);
      pre.push(128 / ((performance.now() - s) / 1000));
      const stamps: number[] = [];
      await engine.generate(prompt, { maxTokens: 33, temperature: 0, onTokens: () => stamps.push(performance.now()) });
      dec.push(32 / ((stamps.at(-1)! - stamps[0]!) / 1000));
    }
    await engine.close();
    console.log(`L=${layers} decode=${d}: prefill ${med(pre).toFixed(1)} decode ${med(dec).toFixed(2)} [${dec.map((x) => x.toFixed(1)).join(' ')}] load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
  }
}
