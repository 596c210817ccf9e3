import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toolPythonCommand } from '../../../cli/src/commands/tool-python.js';
import {
  containerSpec,
  DEFAULT_LIMITS,
  LABEL,
  LABEL_OWNER,
  LABEL_SESSION,
} from '../../src/python/container.js';
import { formatResult, PythonSandbox } from '../../src/python/index.js';
import { requireDocker } from './docker.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const PYTHON_INDEX = fileURLToPath(new URL('../../src/python/index.ts', import.meta.url));

let docker: Docker;
let image: string;
let scratch: string;

let setupError: unknown;
beforeAll(async () => {
  try {
    ({ docker, image } = await requireDocker());
    scratch = await mkdtemp(join(tmpdir(), 'harmonia-python-test-'));
  } catch (err) {
    setupError = err;
  }
});
// Without Docker every test fails with the setup message (rather than being skipped).
beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function sessionContainers(session: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({
    all: true,
    filters: { label: [`${LABEL}=1`, `${LABEL_SESSION}=${session}`] },
  });
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

/** A pid that certainly belongs to no process: one that has just exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((r) => child.on('exit', r));
  return child.pid as number;
}

/** Runs a script in a separate Node process that starts a session, prints its container id, then does `then`. */
async function hostProcess(
  session: string,
  then: 'hang' | 'exit',
): Promise<{ containerId: string; kill(): void }> {
  const script = join(scratch, `${session}.mts`);
  await writeFile(
    script,
    `import { PythonSandbox } from ${JSON.stringify(PYTHON_INDEX)};
const sandbox = new PythonSandbox({ image: ${JSON.stringify(image)} });
await sandbox.run(${JSON.stringify(session)}, 'x = 1');
console.log(sandbox.containerIds()[0]);
${then === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const containerId = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => {
      if (!out.includes('\n'))
        reject(new Error(`host process exited (${code}) before starting a session: ${err}`));
    });
  });
  if (then === 'exit') await new Promise((r) => child.on('exit', r));
  return { containerId, kill: () => child.kill('SIGKILL') };
}

describe('python sandbox lifecycle', () => {
  it('removes its containers when the host process exits', { timeout: 30_000 }, async () => {
    const session = `exit-${process.pid}`;
    const { containerId } = await hostProcess(session, 'exit');
    expect(containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(await sessionContainers(session)).toEqual([]);
  });

  it('leaks nothing when the host process is killed: the kernel stops, the next sweep removes it', {
    timeout: 30_000,
  }, async () => {
    const session = `kill-${process.pid}`;
    const host = await hostProcess(session, 'hang');
    expect((await sessionContainers(session)).map((c) => c.State)).toEqual(['running']);
    host.kill();
    // Its attach stream closed, so the kernel's stdin closed (StdinOnce) and the container stopped on its own.
    expect(await waitFor(async () => (await sessionContainers(session))[0]?.State === 'exited', 10_000)).toBe(
      true,
    );
    const sweeper = new PythonSandbox({ docker, image });
    expect(await sweeper.sweep()).toBeGreaterThanOrEqual(1);
    expect(await sessionContainers(session)).toEqual([]);
    await sweeper.dispose();
  });

  it('sweeps running containers whose owning process is gone', async () => {
    const session = `orphan-${process.pid}`;
    const spec = containerSpec({
      image,
      sessionId: session,
      limits: DEFAULT_LIMITS,
      detached: false,
      idleExitSeconds: 60,
    });
    spec.Labels = { ...spec.Labels, [LABEL_OWNER]: String(await deadPid()) };
    spec.StdinOnce = false;
    const orphan = await docker.createContainer(spec);
    await orphan.start();
    const sweeper = new PythonSandbox({ docker, image });
    await sweeper.sweep();
    expect(await sessionContainers(session)).toEqual([]);
    await sweeper.dispose();
  });

  it('reaps idle sessions and tells the model on the next call', { timeout: 15_000 }, async () => {
    const session = `idle-${process.pid}`;
    const sandbox = new PythonSandbox({ docker, image, idleTimeoutMs: 1000 });
    await sandbox.run(session, 'x = 1');
    expect(await sessionContainers(session)).toHaveLength(1);
    expect(await waitFor(async () => (await sessionContainers(session)).length === 0, 5000)).toBe(true);
    const r = await sandbox.run(session, '"x" in globals()');
    expect(r.output).toBe('False\n');
    expect(r.restartReason).toBe('it was idle for more than 1 s');
    expect((await sandbox.run(session, '1')).stateLost).toBe(false);
    await sandbox.dispose();
  });

  it('keeps detached sessions across sandboxes (CLI invocations) until disposed', async () => {
    const session = `detached-${process.pid}`;
    const first = new PythonSandbox({ docker, image, detached: true });
    await first.run(session, 'x = 20\nopen("keep.txt", "w").write("k")');
    await first.dispose();
    expect((await sessionContainers(session)).map((c) => c.State)).toEqual(['running']);
    const second = new PythonSandbox({ docker, image, detached: true });
    const r = await second.run(session, 'x + 1, open("keep.txt").read()');
    expect(r.output).toBe("(21, 'k')\n");
    expect(await second.disposeSession(session)).toBe(true);
    expect(await sessionContainers(session)).toEqual([]);
    await second.dispose();
  });

  it('takes over a detached session whose previous process died mid-call, interrupting that call', {
    timeout: 20_000,
  }, async () => {
    const session = `detached-busy-${process.pid}`;
    const first = new PythonSandbox({ docker, image, detached: true });
    await first.run(session, 'x = 1');
    const abandoned = first.run(session, 'import time\ntime.sleep(60)').catch((err: Error) => err);
    await new Promise((r) => setTimeout(r, 300));
    await first.dispose();
    expect(String(await abandoned)).toMatch(/disposed during this call/);
    const second = new PythonSandbox({ docker, image, detached: true });
    const r = await second.run(session, 'x');
    expect(r.output).toBe('1\n');
    expect(r.stateLost).toBe(false);
    await second.disposeSession(session);
    await second.dispose();
  });

  it('stops a detached kernel after its idle limit', { timeout: 15_000 }, async () => {
    const session = `detached-idle-${process.pid}`;
    const sandbox = new PythonSandbox({ docker, image, detached: true, idleTimeoutMs: 1000 });
    await sandbox.run(session, 'x = 1');
    await sandbox.dispose();
    expect(await waitFor(async () => (await sessionContainers(session))[0]?.State === 'exited', 6000)).toBe(
      true,
    );
    const next = new PythonSandbox({ docker, image, detached: true });
    const r = await next.run(session, '"x" in globals()');
    expect(r.output).toBe('False\n');
    expect(r.stateLost).toBe(true);
    expect(formatResult(r)).toBe(
      'False\n[The Python environment was restarted because it was idle for too long. All state was lost: variables, imports and files in /mnt/data are gone.]',
    );
    await next.disposeSession(session);
    await next.dispose();
  });
});

describe('harmonia tool python', () => {
  async function cli(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const input = new PassThrough();
    input.end(stdin);
    const code = await toolPythonCommand.run([...args, '--image', image], { stdout, stderr, stdin: input });
    return { code, out, err };
  }

  it('runs code from --code and stdin in one session across invocations, then disposes it', async () => {
    const session = `cli-${process.pid}`;
    expect(await cli(['--session', session, '--code', 'x = 5\nx * 2'])).toEqual({
      code: 0,
      out: '10\n',
      err: '',
    });
    expect((await cli(['--session', session], 'x += 1\nprint("x is", x)')).out).toBe('x is 6\n');
    const timed = await cli([
      '--session',
      session,
      '--timeout',
      '0.5',
      '--code',
      'import time\ntime.sleep(30)',
    ]);
    expect(timed.out).toContain('[The code timed out after 0.5 s and was interrupted.');
    expect((await cli(['--session', session, '--code', 'x'])).out).toBe('6\n');
    expect(await cli(['--session', session, '--dispose'])).toEqual({
      code: 0,
      out: `removed session ${session}\n`,
      err: '',
    });
    expect(await sessionContainers(session)).toEqual([]);
  });

  it('rejects bad flags with usage errors', async () => {
    await expect(cli(['--code', '1'])).rejects.toThrow(/--session ID is required/);
    await expect(cli(['--session', 'a b', '--code', '1'])).rejects.toThrow(/must be 1-128 letters/);
    await expect(cli(['--session', 'a', '--timeout', 'soon'])).rejects.toThrow(
      /--timeout must be a positive number/,
    );
    await expect(cli(['--session', 'a', '--bogus'])).rejects.toThrow(/Unknown option '--bogus'/);
  });
});
