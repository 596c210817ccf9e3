/**
 * Attacks on the docs search backend (browser local search, `tool browser search --docs DIR`) through a hostile
 * docs folder: links out of the folder, FIFOs, dangling links, markup nested 100 000 deep, binary and huge files,
 * and files swapped for links between listing and reading.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { DocumentFileError, readDocumentText } from '@harmonia/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolBrowserCommand } from '../../../cli/src/commands/tool-browser.js';
import { LocalSearchBackend } from '../../src/browser/index.js';

let dir: string;
let outside: string;
let backend: LocalSearchBackend;
let ms: number;

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'harmonia-docs-attack-'));
  dir = join(root, 'docs');
  outside = join(root, 'outside');
  await mkdir(join(dir, 'sub'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret.md'), '# Secret\n\nThe launch code is swordfish.\n');
  await writeFile(join(dir, 'faq.md'), '# FAQ\n\nPasswords can be reset from the login page.\n');
  await writeFile(join(dir, 'sub', 'guide.txt'), 'Billing questions go to the billing team.\n');
  await symlink('/etc/passwd', join(dir, 'passwd.md'));
  await symlink(join(outside, 'secret.md'), join(dir, 'secret.md'));
  await symlink(outside, join(dir, 'linked'));
  await symlink(join(dir, 'nothing-here.md'), join(dir, 'gone.md'));
  execFileSync('mkfifo', [join(dir, 'hang.md')]);
  const n = 100_000;
  await writeFile(
    join(dir, 'deep.html'),
    `<html><body>${'<div>'.repeat(n)}Deeply nested refund policy${'</div>'.repeat(n)}</body></html>`,
  );
  await writeFile(join(dir, 'blob.md'), Buffer.from([0x23, 0x20, 0x41, 0, 1, 2, 3]));
  await writeFile(join(dir, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  await writeFile(join(dir, 'huge.md'), `# Huge\n${'x'.repeat(3 * 1024 * 1024)}`);
  const t = performance.now();
  backend = await LocalSearchBackend.fromDirectory(dir);
  ms = performance.now() - t;
});

afterAll(async () => {
  if (dir) await rm(join(dir, '..'), { recursive: true, force: true });
});

const urls = async (q: string) => (await backend.search(q, 10)).map((h) => h.url);

describe('docs search attacks', () => {
  it('attack: a FIFO named hang.md does not hang the index', () => {
    expect(ms).toBeLessThan(10_000);
    expect(backend.page('https://docs.invalid/hang.md')).toBeUndefined();
  });

  it('attack: a passwd.md link to /etc/passwd is not served', async () => {
    expect(await urls('root bin bash nologin')).toEqual([]);
    expect(backend.page('https://docs.invalid/passwd.md')).toBeUndefined();
  });

  it('attack: a file link out of the folder is not followed', async () => {
    expect(await urls('launch code swordfish')).toEqual([]);
  });

  it('attack: a linked folder is not walked', () => {
    expect(backend.page('https://docs.invalid/linked/secret.md')).toBeUndefined();
  });

  it('attack: a dangling link does not fail the index', async () => {
    expect(await urls('reset password')).toEqual(['https://docs.invalid/faq.md']);
    expect(await urls('billing')).toEqual(['https://docs.invalid/sub/guide.txt']);
  });

  it('attack: HTML nested 100 000 deep is indexed with its text, not a crash', async () => {
    expect(await urls('refund policy')).toEqual(['https://docs.invalid/deep.html']);
  });

  it('attack: binary, non-UTF-8 and oversized files are skipped with a reason', () => {
    const reasons = Object.fromEntries(backend.skipped.map((s) => [s.url.split('/').pop(), s.reason]));
    expect(reasons['blob.md']).toMatch(/looks binary/);
    expect(reasons['latin1.txt']).toMatch(/not valid UTF-8/);
    expect(reasons['huge.md']).toMatch(/over the 2097152-byte limit/);
  });

  it('attack: a file swapped for a link after listing is refused when read', async () => {
    const victim = join(dir, 'swap.md');
    await symlink('/etc/passwd', victim);
    await expect(readDocumentText(victim, { root: dir })).rejects.toThrow(DocumentFileError);
    await expect(readDocumentText(victim, { root: dir })).rejects.toThrow(/symbolic link/);
    await rm(victim);
  });

  it('attack: a folder in the path swapped for a link after listing is refused when read', async () => {
    const sub = join(dir, 'swapdir');
    await mkdir(sub);
    await writeFile(join(sub, 'ok.md'), '# ok');
    await rename(sub, join(dir, 'swapdir-old'));
    await symlink(outside, sub); // swapdir -> outside; outside has secret.md
    await expect(readDocumentText(join(sub, 'secret.md'), { root: dir })).rejects.toThrow(
      /resolves outside the docs folder/,
    );
    await rm(sub);
    await rm(join(dir, 'swapdir-old'), { recursive: true });
  });

  it('attack: a FIFO swapped in after listing is refused at once', async () => {
    const fifo = join(dir, 'late.md');
    execFileSync('mkfifo', [fifo]);
    await expect(readDocumentText(fifo, { root: dir })).rejects.toThrow(/not a regular file/);
    await rm(fifo);
  });

  it('attack: `tool browser search --docs` over the hostile folder answers from the real docs only', async () => {
    let out = '';
    const code = await toolBrowserCommand.run(['search', '--query', 'root passwords', '--docs', dir], {
      stdout: new Writable({
        write: (c, _e, cb) => {
          out += String(c);
          cb();
        },
      }),
      stderr: new Writable({ write: (_c, _e, cb) => cb() }),
      stdin: new PassThrough(),
    });
    expect(code).toBe(0);
    expect(out).toContain('Passwords can be reset');
    expect(out).not.toMatch(/root:x:0/);
  });
});
