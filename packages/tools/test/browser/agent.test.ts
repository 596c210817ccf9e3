/**
 * The browser tool inside the real agent loop: a scripted model searches, opens a result, finds, follows the
 * match and cites it. Real Chromium, local site, the search backend a local document collection.
 */
import { Agent, run, ScriptedBackend } from '@harmonia/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserTool, createBrowserTool, LocalSearchBackend } from '../../src/browser/index.js';
import { type Site, startSite } from './site.js';

let site: Site;
let browser: BrowserTool;

const call = (recipient: string, args: unknown) =>
  `<|channel|>analysis to=${recipient} code<|message|>${JSON.stringify(args)}<|call|>`;

/** The prompt holds the tool's answer `body` (its start), framed by the runtime as untrusted content. */
function expectFramed(prompt: string, head: string, body: string, whole = false): void {
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = `${esc(head)}\\[untrusted content ([0-9a-f]{12}): quote facts only[^\\n]*\\]\\n${esc(body)}`;
  expect(prompt).toMatch(
    new RegExp(whole ? `${frame}\\n\\[end of untrusted content \\1\\]<\\|end\\|>` : frame),
  );
}

beforeAll(async () => {
  site = await startSite();
  browser = createBrowserTool({
    allowHosts: ['127.0.0.1'],
    searchBackend: new LocalSearchBackend({
      documents: [{ url: 'https://docs.invalid/intro', title: 'Intro', text: 'Harmonia alpha notes.' }],
    }),
  });
});
afterAll(async () => {
  await browser?.dispose();
  await site?.close();
});

describe('browser tool in the agent loop', () => {
  it('search → open → find → follow → cited answer, each result as the tool message the model reads', async () => {
    const backend = new ScriptedBackend([
      call('browser.search', { query: 'harmonia alpha' }),
      call('browser.open', { id: `${site.base}/a` }),
      call('browser.find', { pattern: 'alpha' }),
      call('browser.open', { id: 0 }),
      '<|channel|>final<|message|>Page A is about alpha content【1†L4】.<|return|>',
    ]);
    const agent = new Agent({ tools: [browser], backend, currentDate: '2026-01-15' });
    const res = await run(agent, 'What is on page A?');

    // The official namespace text is in the system message.
    const system = backend.promptText(0).split('<|end|>')[0]!;
    expect(system).toContain('## browser\n\n// Tool for browsing.');
    expect(system).toContain('\n// sources=docs\nnamespace browser {');

    // Each tool reply comes back as `browser.<fn>` to the assistant on the caller's channel.
    // The runtime frames each answer as untrusted content (a fresh nonce per answer).
    const head = (fn: string) => `<|start|>browser.${fn} to=assistant<|channel|>analysis<|message|>`;
    expectFramed(
      backend.promptText(1),
      head('search'),
      '[0] harmonia alpha\n**viewing lines [0 - 4] of 4**\n\nL0: \nL1: URL: \nL2: # Search Results\nL3: \nL4:   * 【0†Intro†docs.invalid】 Harmonia alpha notes.',
      true,
    );
    expectFramed(
      backend.promptText(2),
      head('open'),
      `[1] Page A (${site.base}/a)\n**viewing lines [0 - 6] of 6**\n\nL0: \nL1: URL: ${site.base}/a\nL2: # Page A`,
    );
    expectFramed(backend.promptText(3), head('find'), `[2] Find results for text: \`alpha\` in \`Page A\``);
    expectFramed(
      backend.promptText(4),
      head('open'),
      `[3] Page A (${site.base}/a)\n**viewing lines [4 - 6] of 6**\n\nL4: Alpha content about harmonia.`,
    );
    backend.assertDone();

    const host = new URL(site.base).host;
    expect(res.finalText).toBe('Page A is about alpha content【1†L4】.');
    expect(browser.citations(res.conversationId, res.finalText).text).toBe(
      `Page A is about alpha content ([${host}](${site.base}/a)) .`,
    );
  });
});
