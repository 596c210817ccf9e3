import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddressGuard,
  BackendError,
  BraveBackend,
  createBrowserTool,
  ExaBackend,
  isSpecialAddress,
  LocalSearchBackend,
  SearxngBackend,
  YouComBackend,
} from '../../src/browser/index.js';

const signal = new AbortController().signal;

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

// One local fake answering in each service's documented JSON shape.
let server: Server;
let base = '';
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const u = new URL(req.url ?? '/', 'http://x');
      const json = (status: number, v: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (u.pathname === '/search' && req.method === 'GET') {
        return json(200, {
          query: u.searchParams.get('q'),
          number_of_results: 2,
          results: [
            { url: 'https://a.example/1', title: 'SearX One', content: 'first  hit\n', engine: 'ddg' },
            { url: 'https://b.example/2', title: 'SearX Two', content: 'second hit', engine: 'ddg' },
            { title: 'no url: skipped' },
          ],
        });
      }
      if (u.pathname === '/res/v1/web/search') {
        if (req.headers['x-subscription-token'] !== 'brave-key') return json(401, { error: 'bad token' });
        return json(200, {
          type: 'search',
          web: {
            type: 'search',
            results: [
              {
                title: 'Brave One',
                url: 'https://brave.example/1',
                description: 'a <strong>bold</strong> hit',
              },
            ],
          },
        });
      }
      if (u.pathname === '/search' && req.method === 'POST') {
        return json(200, {
          requestId: 'r1',
          results: [{ id: 'x', title: 'Exa One', url: 'https://exa.example/1', summary: 'exa summary' }],
        });
      }
      if (u.pathname === '/v1/search') {
        return json(200, {
          results: {
            web: [{ url: 'https://you.example/w', title: 'You Web', snippets: ['s one', 's two'] }],
            news: [{ url: 'https://you.example/n', title: 'You News', description: 'news desc' }],
          },
        });
      }
      json(500, { error: 'boom' });
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe('search backends against local fakes of their JSON APIs', () => {
  it('SearXNG: GET /search?q=…&format=json, results[].content as snippet', async () => {
    const hits = await new SearxngBackend({ baseUrl: `${base}/`, env: {} }).search(
      'harmony format',
      5,
      signal,
    );
    expect(hits).toEqual([
      { title: 'SearX One', url: 'https://a.example/1', snippet: 'first hit' },
      { title: 'SearX Two', url: 'https://b.example/2', snippet: 'second hit' },
    ]);
    expect(seen.at(-1)!.url).toBe('/search?q=harmony+format&format=json');
  });

  it('Brave: key header, count, description with highlight tags removed', async () => {
    const hits = await new BraveBackend({ baseUrl: base, apiKey: 'brave-key' }).search('q', 3, signal);
    expect(hits).toEqual([{ title: 'Brave One', url: 'https://brave.example/1', snippet: 'a bold hit' }]);
    expect(seen.at(-1)!.url).toBe('/res/v1/web/search?q=q&count=3');
    await expect(new BraveBackend({ baseUrl: base, apiKey: 'wrong' }).search('q', 3, signal)).rejects.toThrow(
      'Brave error 401: {"error":"bad token"}',
    );
  });

  it('Exa: POST /search with numResults and x-api-key, summary as snippet', async () => {
    const hits = await new ExaBackend({ baseUrl: base, env: { EXA_API_KEY: 'exa-key' } }).search(
      'q',
      4,
      signal,
    );
    expect(hits).toEqual([{ title: 'Exa One', url: 'https://exa.example/1', snippet: 'exa summary' }]);
    const req = seen.at(-1)!;
    expect(req.headers['x-api-key']).toBe('exa-key');
    expect(JSON.parse(req.body)).toEqual({ query: 'q', numResults: 4, contents: { summary: true } });
  });

  it('You.com: web results then news', async () => {
    const hits = await new YouComBackend({ baseUrl: base, apiKey: 'yk' }).search('q', 10, signal);
    expect(hits).toEqual([
      { title: 'You Web', url: 'https://you.example/w', snippet: 's one s two' },
      { title: 'You News', url: 'https://you.example/n', snippet: 'news desc' },
    ]);
    expect(seen.at(-1)!.url).toBe('/v1/search?query=q&count=10');
    expect(seen.at(-1)!.headers['x-api-key']).toBe('yk');
  });

  it('a missing key or URL is a clear error at construction', () => {
    expect(() => new BraveBackend({ env: {} })).toThrow(
      /Brave Search API key not provided. Set BRAVE_SEARCH_API_KEY/,
    );
    expect(() => new ExaBackend({ env: {} })).toThrow('Exa API key not provided. Set EXA_API_KEY');
    expect(() => new YouComBackend({ env: {} })).toThrow(/You.com API key not provided. Set YDC_API_KEY/);
    expect(() => new SearxngBackend({ env: {} })).toThrow(/SearXNG URL not provided. Set SEARXNG_URL/);
    expect(() => createBrowserTool({ searchBackend: 'exa', exa: { env: {} } })).toThrow(BackendError);
  });

  it('search through the tool shows the results page and reports backend failures in the reference text', async () => {
    const tool = createBrowserTool({ searchBackend: 'searxng', searxng: { baseUrl: base } });
    const ctx = { conversationId: 's', signal, channel: 'analysis' };
    const out = await tool.call('search', JSON.stringify({ query: 'harmony format', topn: 2 }), ctx);
    expect(out.text).toBe(
      [
        '[0] harmony format',
        '**viewing lines [0 - 5] of 5**',
        '',
        'L0: ',
        'L1: URL: ',
        'L2: # Search Results',
        'L3: ',
        'L4:   * 【0†SearX One†a.example】 first hit',
        'L5:   * 【1†SearX Two†b.example】 second hit',
      ].join('\n'),
    );
    const broken = createBrowserTool({ searchBackend: 'searxng', searxng: { baseUrl: `${base}/nope` } });
    const err = await broken.call('search', '{"query":"x"}', ctx);
    expect(err.text).toBe('Error during search for `x`: SearXNG error 500: {"error":"boom"}');
    await tool.dispose();
    await broken.dispose();
  });
});

describe('local document backend', () => {
  it('ranks documents by BM25, shows the best passage, and opens results with no network', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-docs-'));
    await mkdir(join(dir, 'guide'));
    await writeFile(
      join(dir, 'refunds.md'),
      '# Refunds\n\nRefunds take 5 days. Contact support for a refund.\n',
    );
    await writeFile(
      join(dir, 'guide', 'setup.html'),
      '<title>Setup</title><p>Install the app. Then <a href="/x">log in</a>.</p>',
    );
    await writeFile(join(dir, 'skip.bin'), 'binary');
    const local = await LocalSearchBackend.fromDirectory(dir);
    expect(await local.search('how long do refunds take', 5)).toEqual([
      { title: 'Refunds', url: 'https://docs.invalid/refunds.md', snippet: 'Refunds take 5 days.' },
    ]);
    const tool = createBrowserTool({ searchBackend: local });
    expect(tool.config().description).toMatch(/\nsources=docs$/);
    const ctx = { conversationId: 'l', signal, channel: 'analysis' };
    await tool.call('search', '{"query":"install app"}', ctx);
    const opened = await tool.call('open', '{"id":0}', ctx);
    expect(opened.text).toBe(
      '[1] Setup (https://docs.invalid/guide/setup.html)\n**viewing lines [0 - 2] of 2**\n\nL0: \nL1: URL: https://docs.invalid/guide/setup.html\nL2: Install the app. Then 【0†log in】.',
    );
    await tool.dispose();
  });
});

describe('address classification', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.31.255.255', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.100.100.200', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['fe80::1', true],
    ['fd00:ec2::254', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:a00:1', true],
    ['93.184.216.34', false],
    ['2606:4700:4700::1111', false],
    ['::ffff:8.8.8.8', false],
  ])('%s special=%s', (ip, special) => {
    expect(isSpecialAddress(ip)).toBe(special);
  });

  it('refuses after resolution, allows by address, CIDR or name, and never resolves a refused scheme', async () => {
    const asked: string[] = [];
    const resolver = async (h: string) => {
      asked.push(h);
      const table: Record<string, string> = {
        'evil.test': '10.0.0.5',
        'meta.test': '169.254.169.254',
        'ok.test': '93.184.216.34',
      };
      return [{ address: table[h] ?? '127.0.0.1', family: 4 as const }];
    };
    const guard = new AddressGuard({ resolver });
    await expect(guard.check(new URL('http://evil.test/'))).rejects.toThrow(
      'evil.test resolves to 10.0.0.5, which is a private or special-purpose address',
    );
    await expect(guard.check(new URL('http://meta.test/latest'))).rejects.toThrow(/169\.254\.169\.254/);
    await expect(guard.check(new URL('http://[::1]:80/'))).rejects.toThrow(/::1/);
    await expect(guard.check(new URL('http://metadata.google.internal/'))).rejects.toThrow(/metadata/);
    await expect(guard.check(new URL('file:///etc/passwd'))).rejects.toThrow(
      'only http and https URLs can be opened',
    );
    await expect(guard.check(new URL('ftp://ok.test/'))).rejects.toThrow('only http and https');
    expect(await guard.check(new URL('https://ok.test/'))).toEqual({ address: '93.184.216.34', family: 4 });
    expect(asked).toEqual(['evil.test', 'meta.test', 'ok.test']);

    const allowing = new AddressGuard({ resolver, allowHosts: ['127.0.0.1', '10.0.0.0/8', 'meta.test'] });
    expect((await allowing.check(new URL('http://evil.test/'))).address).toBe('10.0.0.5');
    expect((await allowing.check(new URL('http://127.0.0.1:9/'))).address).toBe('127.0.0.1');
    expect((await allowing.check(new URL('http://meta.test/'))).address).toBe('169.254.169.254');
  });
});
