/**
 * The browser tool attached to a Chromium it did not start: a Playwright browser server on 127.0.0.1, given as
 * HARMONIA_BROWSER_ENDPOINT (the way the CLI and the bots are configured). A local launch is made impossible
 * (bogus executable path), so a page can only come through the remote browser.
 */
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserTool,
  CHROMIUM_FLAGS,
  createBrowserTool,
  type ResolvedAddress,
} from '../../src/browser/index.js';
import { type Site, startSite } from './site.js';

const CHROMIUM = process.env.HARMONIA_CHROMIUM ?? '/usr/bin/chromium';
let site: Site;
let server: Awaited<ReturnType<typeof chromium.launchServer>>;
let tool: BrowserTool;
const resolver = async (host: string): Promise<ResolvedAddress[]> => {
  if (host === 'site.test') return [{ address: '127.0.0.1', family: 4 }];
  // Answered by this fake resolver only: the policy refuses the address before anything is sent.
  if (host === 'private.test') return [{ address: '10.0.0.7', family: 4 }];
  throw new Error(`getaddrinfo ENOTFOUND ${host}`);
};

beforeAll(async () => {
  site = await startSite({});
  server = await chromium.launchServer({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_FLAGS],
    host: '127.0.0.1',
  });
}, 60_000);

afterAll(async () => {
  await tool?.dispose();
  await server?.close();
  await site?.close();
});

describe('browser tool on a remote Chromium (HARMONIA_BROWSER_ENDPOINT)', () => {
  it('opens pages through the attached browser, with the address policy still applied here', async () => {
    const saved = process.env.HARMONIA_BROWSER_ENDPOINT;
    process.env.HARMONIA_BROWSER_ENDPOINT = server.wsEndpoint();
    try {
      tool = createBrowserTool({
        executablePath: '/nonexistent/chromium',
        allowHosts: ['127.0.0.1'],
        resolver,
        navigationTimeoutMs: 5000,
        searchBackend: { name: 'none', source: 'web', search: async () => [] },
      });
      const ctx = { conversationId: 'r1', signal: new AbortController().signal, channel: 'analysis' };
      const page = (await tool.call('open', JSON.stringify({ id: `${site.base}/` }), ctx)).text;
      expect(page).toContain('# Welcome');
      expect(page).toContain(`URL: ${site.base}/`);
      // A private address is still refused by this process's policy, whatever browser renders the page.
      const blocked = (await tool.call('open', JSON.stringify({ id: 'http://private.test/' }), ctx)).text;
      expect(blocked).toMatch(/Error fetching URL/);
    } finally {
      if (saved === undefined) delete process.env.HARMONIA_BROWSER_ENDPOINT;
      else process.env.HARMONIA_BROWSER_ENDPOINT = saved;
    }
  }, 60_000);

  it('says what to do when the endpoint does not answer', async () => {
    const t = createBrowserTool({
      endpoint: 'ws://127.0.0.1:1/nothing',
      allowHosts: ['127.0.0.1'],
      resolver,
      searchBackend: { name: 'none', source: 'web', search: async () => [] },
    });
    const ctx = { conversationId: 'r2', signal: new AbortController().signal, channel: 'analysis' };
    const text = (await t.call('open', JSON.stringify({ id: `${site.base}/` }), ctx)).text;
    expect(text).toMatch(/could not attach to the Chromium at ws:\/\/127\.0\.0\.1:1\/nothing/);
    await t.dispose();
  }, 60_000);
});
