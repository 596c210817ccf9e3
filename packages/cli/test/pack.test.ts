/**
 * The published form: every package is packed (`pnpm pack`, which writes real versions for `workspace:*`), the
 * tarballs are installed into a scratch project outside the workspace (from the local store, no workspace links),
 * and the README's first-agent snippet runs there, unchanged but for the server address, against a local vLLM fake.
 * Installing the CLI would pull every package's dependencies (LanceDB, Playwright, …) and takes minutes on a shared
 * machine, so its tarball is checked as a manifest; the library a first agent needs is installed and run.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeServer } from '../../core/test/fakes/server.js';
import { vllmServer } from '../../core/test/fakes/servers.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKAGES = ['core', 'tools', 'router', 'engine', 'server', 'support', 'cli'];

let scratch = '';
let server: FakeServer | undefined;
afterAll(async () => {
  await server?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('packed packages', () => {
  it('install outside the workspace and run the README first agent', { timeout: 300_000 }, async () => {
    scratch = await mkdtemp(join(tmpdir(), 'harmonia-pack-'));
    expect(scratch.startsWith(root)).toBe(false);
    const tarballs = join(scratch, 'tarballs');
    await Promise.all(
      PACKAGES.map((p) =>
        run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(root, 'packages', p) }),
      ),
    );
    const files = await readdir(tarballs);
    const tgz = (p: string) => {
      const f = files.find((x) => x.startsWith(`harmonia-${p}-`));
      if (!f) throw new Error(`no tarball for ${p}`);
      return `file:${join(tarballs, f)}`;
    };
    // Each manifest is publishable: no private flag, a license, zod as a peer of core.
    for (const p of PACKAGES) {
      const { stdout } = await run(
        'tar',
        ['xzf', join(tarballs, tgz(p).slice(5 + tarballs.length + 1)), '-O', 'package/package.json'],
        { cwd: tarballs },
      );
      const m = JSON.parse(stdout) as Record<string, unknown>;
      expect(m.private).toBeUndefined();
      expect(m.license).toBe('Apache-2.0');
      expect(JSON.stringify(m)).not.toContain('workspace:');
      if (p === 'core') expect(m.peerDependencies).toEqual({ zod: '^4.0.0' });
    }
    const app = join(scratch, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'first-agent',
        private: true,
        type: 'module',
        dependencies: { '@harmonia/core': tgz('core'), zod: '4.6.7' },
      }),
    );
    await run('pnpm', ['install', '--prefer-offline', '--ignore-workspace', '--reporter=silent'], {
      cwd: app,
    });

    server = await new FakeServer(
      vllmServer([{ reasoning: 'Easy.', content: 'It is 21 °C in Paris.' }]).handler,
    ).start();
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const snippet = /## A first agent\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet).toBeDefined();
    await writeFile(join(app, 'first-agent.mjs'), snippet!.replace('http://127.0.0.1:8000', server.url));
    const out = await run(process.execPath, ['first-agent.mjs'], { cwd: app, timeout: 60_000 });
    expect(out.stdout).toBe('It is 21 °C in Paris.\n');
  });
});
