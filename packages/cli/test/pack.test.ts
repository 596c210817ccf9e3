/**
 * The published form: every package is packed (`pnpm pack`, which writes real versions for `workspace:*`), the
 * tarballs are installed into scratch projects outside the workspace (from the local store, no workspace links):
 * the README's first-agent snippet runs on the core tarball alone, against a local vLLM fake; the CLI tarball,
 * with the other packages' tarballs for its dependencies, gives `harmonia` commands that use every package.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeServer } from '../../core/test/fakes/server.js';
import { vllmServer } from '../../core/test/fakes/servers.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKAGES = ['core', 'tools', 'router', 'engine', 'server', 'support', 'cli'];

let scratch = '';
let tarballs = '';
let files: string[] = [];
let server: FakeServer | undefined;
afterAll(async () => {
  await server?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});
const tgz = (p: string) => {
  const f = files.find((x) => x.startsWith(`harmonia-${p}-`));
  if (!f) throw new Error(`no tarball for ${p}`);
  return `file:${join(tarballs, f)}`;
};
const install = (cwd: string) =>
  run('pnpm', ['install', '--prefer-offline', '--ignore-workspace', '--reporter=silent'], { cwd });

describe('packed packages', () => {
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'harmonia-pack-'));
    expect(scratch.startsWith(root)).toBe(false);
    tarballs = join(scratch, 'tarballs');
    await Promise.all(
      PACKAGES.map((p) =>
        run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(root, 'packages', p) }),
      ),
    );
    files = await readdir(tarballs);
  }, 180_000);

  it('are publishable manifests with the files they need and no build leftovers', async () => {
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
      const list = (await run('tar', ['tzf', tgz(p).slice(5)])).stdout.split('\n');
      expect(list, p).toContain('package/dist/index.js');
      expect(list, p).toContain('package/LICENSE');
      expect(
        list.filter((f) => f.endsWith('.tsbuildinfo')),
        p,
      ).toEqual([]);
    }
    // The command's file is in the repository (not built), so installing a fresh checkout links it without a
    // warning; it is in the tarball too.
    const cli = JSON.parse(await readFile(join(root, 'packages/cli/package.json'), 'utf8')) as {
      bin: { harmonia: string };
    };
    expect(cli.bin.harmonia).toBe('./bin/harmonia.js');
    const tracked = await run('git', ['ls-files', 'packages/cli/bin/harmonia.js'], { cwd: root });
    expect(tracked.stdout.trim()).toBe('packages/cli/bin/harmonia.js');
    expect((await run('tar', ['tzf', tgz('cli').slice(5)])).stdout).toContain('package/bin/harmonia.js');
    // The engine ships its C++ sources and build script: the addon is built on first use, not on install.
    const engine = (await run('tar', ['tzf', tgz('engine').slice(5)])).stdout;
    for (const f of ['package/binding.gyp', 'package/native/model.cc', 'package/scripts/build-native.mjs'])
      expect(engine).toContain(f);
  });

  it('core installs outside the workspace and runs the README first agent', {
    timeout: 120_000,
  }, async () => {
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
    await install(app);

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

  it('the CLI installs outside the workspace and its commands use every package', {
    timeout: 180_000,
  }, async () => {
    const app = join(scratch, 'cli-user');
    await run('mkdir', ['-p', app]);
    // The other packages come from their tarballs too (they are not on a registry).
    const overrides = Object.fromEntries(
      PACKAGES.filter((p) => p !== 'cli').map((p) => [`@harmonia/${p}`, tgz(p)]),
    );
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'cli-user',
        private: true,
        type: 'module',
        dependencies: { '@harmonia/cli': tgz('cli') },
        pnpm: { overrides },
      }),
    );
    await install(app);
    const bin = join(app, 'node_modules', '.bin', 'harmonia');
    const harmonia = (args: string[], stdin?: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(bin, args, { cwd: app, timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        );
        child.stdin?.end(stdin ?? '');
      });
    const version = (
      JSON.parse(await readFile(join(root, 'packages/cli/package.json'), 'utf8')) as { version: string }
    ).version;
    expect((await harmonia(['--version'])).stdout).toBe(`harmonia ${version}\n`);
    expect((await harmonia(['help', 'run'])).stdout).toMatch(/^Usage: harmonia run --backend SPEC/);

    // core + router: one agent run on a script.
    await writeFile(
      join(app, 'script.json'),
      JSON.stringify([
        '<|channel|>analysis<|message|>Greet.<|end|><|start|>assistant<|channel|>final<|message|>Hello from a packed Harmonia.',
        '<|channel|>analysis<|message|>Again.<|end|><|start|>assistant<|channel|>final<|message|>The support bot, packed.',
      ]),
    );
    const r = await harmonia(['run', '--backend', 'script:script.json', 'Hi']);
    expect(r).toMatchObject({ code: 0, stdout: 'Hello from a packed Harmonia.\n' });

    // support (LanceDB, the bundled docs) + engine loader: the support bot over the docs it ships with.
    const s = await harmonia(
      [
        'start',
        '--backend',
        'script:script.json',
        '--store',
        'memory',
        '--embedder',
        'hashing',
        '--db',
        'db',
      ],
      'Hi\n',
    );
    expect(s.code).toBe(0);
    expect(s.stdout).toBe('Hello from a packed Harmonia.\n');
    expect(s.stderr).toMatch(/Harmonia support bot \(script:script\.json, [1-9]\d* doc entries\)/);

    // tools (Playwright, dockerode) load; router's bundled weights; engine's synthetic checkpoint writer.
    expect((await harmonia(['help', 'tool', 'browser'])).stdout).toMatch(/^Usage: harmonia tool browser/);
    const routed = await harmonia(['router', 'route', 'What is 2+2?']);
    expect(JSON.parse(routed.stdout)).toMatchObject({ model: expect.stringMatching(/^(20b|120b)$/) });
    const synth = await harmonia(['engine', 'synth', '--out', 'tiny', '--preset', 'tiny']);
    expect(synth.code).toBe(0);
    expect(JSON.parse(synth.stdout)).toMatchObject({ preset: 'tiny', layers: expect.any(Number) });

    // server: `harmonia serve` answers an OpenAI-style request.
    const child = spawn(bin, ['serve', '--backend', 'script:script.json', '--port', '0'], { cwd: app });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /listening on (http:\/\/\S+)\/v1/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
      });
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { owned_by: string }[] };
      expect(models.data[0]?.owned_by).toBe('harmonia');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
