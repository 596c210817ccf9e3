/** `harmonia tool browser …`: one call per run, state carried in a file, real Chromium, local site only. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/src/command.js';
import { toolBrowserCommand } from '../../../cli/src/commands/tool-browser.js';
import { type Site, startSite } from './site.js';

let site: Site;
let dir: string;

beforeAll(async () => {
  site = await startSite();
  dir = await mkdtemp(join(tmpdir(), 'harmonia-browser-cli-'));
});
afterAll(async () => site?.close());

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        f(String(chunk));
        cb();
      },
    });
  const code = await toolBrowserCommand.run(args, {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    stdin: new PassThrough(),
  });
  return { code, out, err };
}

describe('harmonia tool browser', () => {
  it('opens, finds and follows across runs through --state', async () => {
    const state = join(dir, 'state.json');
    const first = await cli('open', '--id', `${site.base}/a`, '--state', state, '--allow-host', '127.0.0.1');
    expect(first).toEqual({
      code: 0,
      out: `[0] Page A (${site.base}/a)\n**viewing lines [0 - 6] of 6**\n\nL0: \nL1: URL: ${site.base}/a\nL2: # Page A\nL3: \nL4: Alpha content about harmonia.\nL5: \nL6: Back 【0†home】.\n`,
      err: '',
    });
    const found = await cli('find', '--pattern', 'alpha', '--state', state);
    expect(found.out).toBe(
      `[1] Find results for text: \`alpha\` in \`Page A\` (${site.base}/a/find?pattern=alpha)\n**viewing lines [0 - 3] of 3**\n\nL0: # 【0†match at L4】\nL1: Alpha content about harmonia.\nL2: \nL3: Back home.\n`,
    );
    const jump = await cli('open', '--id', '0', '--state', state);
    expect(jump.out).toBe(
      `[2] Page A (${site.base}/a)\n**viewing lines [4 - 6] of 6**\n\nL4: Alpha content about harmonia.\nL5: \nL6: Back 【0†home】.\n`,
    );
    const scroll = await cli('open', '--cursor', '0', '--loc', '2', '--num-lines', '1', '--state', state);
    expect(scroll.out).toBe(`[3] Page A (${site.base}/a)\n**viewing lines [2 - 2] of 6**\n\nL2: # Page A\n`);
  });

  it('prints the error text the model would see and exits 1; refuses loopback unless allowed', async () => {
    const r = await cli('open', '--id', `${site.base}/a`);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      `Error fetching URL \`${site.base}/a\`: 127.0.0.1 is a private or special-purpose address; it is refused unless allowed (allowHosts / --allow-host)\n`,
    );
  });

  it('leaves a bad state file untouched and says why', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ not json');
    const r = await cli('open', '--state', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.json is not JSON .*left as is/);
    expect(await readFile(bad, 'utf8')).toBe('{ not json');
  });

  it('searches a local document folder with --docs', async () => {
    const docs = await mkdtemp(join(tmpdir(), 'harmonia-docs-'));
    await writeFile(join(docs, 'faq.md'), '# FAQ\n\nPasswords can be reset from the login page.\n');
    const r = await cli('search', '--query', 'reset password', '--docs', docs);
    expect(r.out).toBe(
      '[0] reset password\n**viewing lines [0 - 4] of 4**\n\nL0: \nL1: URL: \nL2: # Search Results\nL3: \nL4:   * 【0†FAQ†docs.invalid】 Passwords can be reset from the login page.\n',
    );
  });

  it('rejects bad flags with a usage error', async () => {
    await expect(cli('open', '--loc', 'x')).rejects.toThrow(UsageError);
    await expect(cli('search')).rejects.toThrow('search needs --query TEXT');
    await expect(cli('search', '--query', 'x', '--search-backend', 'bing')).rejects.toThrow(
      "--search-backend must be one of searxng, brave, exa, youcom, local, got 'bing'",
    );
  });
});
