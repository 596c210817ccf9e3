/**
 * Browser tool benchmark: warm `browser.open` of a local page (Chromium fetch + render + DOM → text + view) and
 * the cost of a new conversation context, against a plain HTTP fetch + the same text conversion in the same run.
 * Run from the repo root after `pnpm -s build` (needs /usr/bin/chromium or $HARMONIA_CHROMIUM):
 *   node --import tsx bench/browser.ts
 */
import { decode, encodeText } from '@harmonia/core';
import { ChromiumFetcher, createBrowserTool, htmlToPage, renderView } from '@harmonia/tools';
import { startSite } from '../packages/tools/test/browser/site.js';

const ROUNDS = 3;
const OPENS = 15;
const CONTEXTS = 10;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] as number;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

const site = await startSite();
class ChromiumFetcherNoSpare extends ChromiumFetcher {
  constructor() {
    super({ allowHosts: ['127.0.0.1'], prewarm: false });
  }
}
const tool = createBrowserTool({ allowHosts: ['127.0.0.1'] });
const tokenizer = { encode: encodeText, decode };
const signal = new AbortController().signal;
const ctx = (conversationId: string) => ({ conversationId, signal, channel: 'analysis' });
const pages = { small: `${site.base}/a`, index: `${site.base}/`, long: `${site.base}/long` };

// Warm up: browser launch, first context, tokenizer tables, JIT.
const launch = await timed(() => tool.fetcher.browserInstance());
const firstOpen = await timed(() => tool.call('open', JSON.stringify({ id: pages.index }), ctx('warm')));
for (const url of Object.values(pages)) {
  await tool.call('open', JSON.stringify({ id: url }), ctx('warm'));
  htmlToPage(await (await fetch(url)).text(), { url });
}

const ours: Record<string, number[]> = { small: [], index: [], long: [] };
const peer: Record<string, number[]> = { small: [], index: [], long: [] };
const contexts: number[] = [];
const firstOpens: number[] = [];
const coldContexts: number[] = [];
const coldFirstOpens: number[] = [];
// The same, without a context made ahead of time (shares the browser).
const noSpare = createBrowserTool({ allowHosts: ['127.0.0.1'], fetcher: new ChromiumFetcherNoSpare() });
let n = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, url] of Object.entries(pages)) {
    for (let i = 0; i < OPENS; i++) {
      ours[name]!.push(
        await timed(async () => {
          const out = await tool.call('open', JSON.stringify({ id: url }), ctx('warm'));
          if (out.meta?.error) throw new Error(out.text);
        }),
      );
      peer[name]!.push(
        await timed(async () => {
          const res = await fetch(url);
          const page = htmlToPage(await res.text(), { url: res.url });
          renderView(page, 0, 0, -1, tokenizer);
        }),
      );
    }
  }
  for (let i = 0; i < CONTEXTS; i++) {
    // Conversations arrive some time apart: give the spare context time to be made, as it would be in use.
    await new Promise((r) => setTimeout(r, 400));
    const id = `fresh-${n++}`;
    contexts.push(await timed(() => tool.fetcher.conversation(id)));
    firstOpens.push(await timed(() => tool.call('open', JSON.stringify({ id: pages.small }), ctx(id))));
    await tool.disposeConversation(id);
    const cold = `cold-${n}`;
    coldContexts.push(await timed(() => noSpare.fetcher.conversation(cold)));
    coldFirstOpens.push(
      await timed(() => noSpare.call('open', JSON.stringify({ id: pages.small }), ctx(cold))),
    );
    await noSpare.disposeConversation(cold);
  }
}

await tool.dispose();
await noSpare.dispose();
await site.close();

console.log(
  `browser launch (cold, once per process): ${ms(launch)}; first open in the first context: ${ms(firstOpen)}`,
);
console.log('\nwarm open (same conversation), median / p90 of', ROUNDS * OPENS);
console.log('page         ours (Chromium)        peer (fetch + same conversion)   ratio');
for (const name of Object.keys(pages)) {
  const o = ours[name]!;
  const p = peer[name]!;
  console.log(
    `${name.padEnd(12)} ${`${ms(median(o))} / ${ms(pct(o, 0.9))}`.padEnd(22)} ${`${ms(median(p))} / ${ms(pct(p, 0.9))}`.padEnd(32)} ${(median(o) / median(p)).toFixed(1)}x`,
  );
}
console.log(`\nnew conversation, median / p90 of ${contexts.length} (then its first open of a small page):`);
console.log(
  `  context made ahead of time (default):       ${ms(median(contexts))} / ${ms(pct(contexts, 0.9))}; first open ${ms(median(firstOpens))} / ${ms(pct(firstOpens, 0.9))}`,
);
console.log(
  `  made on demand (newContext+routing+tab):   ${ms(median(coldContexts))} / ${ms(pct(coldContexts, 0.9))}; first open ${ms(median(coldFirstOpens))} / ${ms(pct(coldFirstOpens, 0.9))}`,
);
console.log(
  `\ngoals: warm open < 300 ms: ${median(ours.small!) < 300 ? 'met' : 'MISSED'} (${ms(median(ours.small!))}); new context < 50 ms: ${median(contexts) < 50 ? 'met' : 'MISSED'} (${ms(median(contexts))})`,
);
