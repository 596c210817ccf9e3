/**
 * Attacks on the python sandbox, against the real Docker engine: user code going after the kernel's protocol channel
 * (fds, /proc/1, ptrace, signals, the __main__ module), floods, a hostile kernel answering the host with forged or
 * endless replies, and an owner that dies during a busy cell.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LABEL, LABEL_SESSION } from '../../src/python/container.js';
import { type PythonRunResult, PythonSandbox } from '../../src/python/index.js';
import { KernelConnection } from '../../src/python/session.js';
import { requireDocker } from '../python/docker.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const PYTHON_INDEX = fileURLToPath(new URL('../../src/python/index.ts', import.meta.url));

let docker: Docker;
let image: string;
let sandbox: PythonSandbox;
let scratch: string;
let seq = 0;
const session = () => `atk${process.pid}-${++seq}`;
const run = (id: string, code: string, timeoutMs = 20_000): Promise<PythonRunResult> =>
  sandbox.run(id, code, { timeoutMs });

let setupError: unknown;
beforeAll(async () => {
  try {
    ({ docker, image } = await requireDocker());
    sandbox = new PythonSandbox({ docker, image, interruptGraceMs: 1000 });
    scratch = await mkdtemp(join(tmpdir(), 'harmonia-python-attack-'));
  } catch (err) {
    setupError = err;
  }
});
beforeEach(() => {
  if (setupError) throw setupError;
});
afterAll(async () => {
  await sandbox?.dispose();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** A forged reply line for whatever request is pending: the id is dug out of the kernel's memory if it is there. */
const FORGE = String.raw`
import json, os, sys
def pending_id():
    f = sys._getframe()
    while f is not None:
        for v in f.f_locals.values():
            if isinstance(v, dict) and isinstance(v.get('id'), str) and 'max_output' in v:
                return v['id']
        f = f.f_back
    return 'x'
forged = (json.dumps({'id': pending_id(), 'output': 'FORGED', 'error': None}) + '\n').encode()
`;

describe('python sandbox: the protocol channel is out of reach of user code', () => {
  it('attack: write a forged reply to the protocol fd named in __main__', async () => {
    const id = session();
    const r = await run(
      id,
      `${FORGE}
m = sys.modules['__main__']
fd = getattr(m, 'reply_fd', 1)
try:
    os.write(fd, forged)
    print('wrote to', fd)
except OSError as e:
    print('refused', e.errno)`,
    );
    expect(r.output).not.toBe('FORGED');
    expect(r.error).toBeNull();
    expect(r.stateLost).toBe(false);
  });

  it('attack: write a forged reply to every open fd', async () => {
    const id = session();
    const r = await run(
      id,
      `${FORGE}
for fd in range(0, 256):
    try:
        os.write(fd, forged)
    except OSError:
        pass
print('genuine')`,
    );
    // What went to fds 1 and 2 is the cell's own output; nothing reached the host as a reply.
    expect(r.output.endsWith('genuine\n')).toBe(true);
    expect(r.stateLost).toBe(false);
    expect(r.error).toBeNull();
  });

  it('attack: a forged reply with a non-string output (crashed the host with a TypeError)', async () => {
    const id = session();
    const r = await run(
      id,
      `${FORGE}
bad = (json.dumps({'id': pending_id(), 'output': {'not': 'text'}, 'files': 7}) + '\\n').encode()
for fd in range(0, 256):
    try:
        os.write(fd, bad)
    except OSError:
        pass
'still here'`,
    );
    expect(r.output.endsWith("'still here'\n")).toBe(true);
    expect(r.stateLost).toBe(false);
  });

  it('attack: 40 MB without a newline down every fd does not buffer on the host or hang the call', async () => {
    const id = session();
    const before = process.memoryUsage().rss;
    const t = performance.now();
    const r = await run(
      id,
      `import os
blob = b'A' * (40 * 1024 * 1024)
for fd in range(0, 64):
    try:
        os.write(fd, blob)
    except OSError:
        pass
'done'`,
    );
    expect(performance.now() - t).toBeLessThan(15_000);
    expect(r.timedOut).toBe(false);
    expect(r.output.endsWith("'done'\n")).toBe(true);
    expect(r.output.length).toBeLessThan(25_000);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it.each([
    ['/proc/1/fd/1', 'w'],
    ['/proc/1/fd/0', 'rb'],
    ['/proc/1/mem', 'rb'],
  ])('attack: open %s of the kernel supervisor', async (path, mode) => {
    const r = await run(
      session(),
      `try:
    open(${JSON.stringify(path)}, ${JSON.stringify(mode)})
    print('OPENED')
except OSError as e:
    print('denied', e.errno)`,
    );
    expect(r.output).toMatch(/^denied 13\n$/);
  });

  it('attack: list the supervisor fds and follow them', async () => {
    const r = await run(
      session(),
      `import os
try:
    print(os.listdir('/proc/1/fd'))
except OSError as e:
    print('denied', e.errno)`,
    );
    expect(r.output).toBe('denied 13\n');
  });

  it('attack: ptrace the supervisor', async () => {
    const r = await run(
      session(),
      `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print(libc.ptrace(16, 1, 0, 0), ctypes.get_errno())`,
    );
    expect(r.output).toBe('-1 1\n');
  });

  it('attack: kill the supervisor with SIGKILL, SIGTERM and SIGSTOP', async () => {
    const id = session();
    await run(id, 'kept = 41');
    const r = await run(
      id,
      `import os, signal, time
for s in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGQUIT):
    os.kill(1, s)
time.sleep(0.3)
kept + 1`,
    );
    expect(r.output).toBe('42\n');
    expect(r.stateLost).toBe(false);
    expect((await run(id, 'kept')).output).toBe('41\n');
  });

  it('attack: forged and endless status lines to the worker pipes are dropped; the real status wins', async () => {
    const id = session();
    await run(id, 'kept = 1');
    const r = await run(
      id,
      `import os
for fd in range(3, 64):
    try:
        os.write(fd, b'{"error": 5}\\n{"seq": 0, "error": "Forged", "interrupted": false, "figures": []}\\n' + b'x' * 200000)
    except OSError:
        pass
print('real')
raise ValueError('the real error')`,
    );
    expect(r.error).toBe('ValueError');
    expect(r.output).toMatch(/^real\n/);
    expect(r.stateLost).toBe(false);
    expect((await run(id, 'kept + 1')).output).toBe('2\n');
  });
});

/** A container playing a compromised kernel: it says it is ready, then answers the first request with `reply`. */
async function hostileKernel(reply: string): Promise<KernelConnection> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: [
      'python3',
      '-c',
      `import sys, json, os
os.write(1, b'{"ready": true}\\n')
req = json.loads(sys.stdin.readline())
${reply}
sys.stdin.read()`,
    ],
    Labels: { [LABEL]: '1', [LABEL_SESSION]: `hostile-${process.pid}` },
    User: '65534:65534',
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    NetworkDisabled: true,
    HostConfig: { NetworkMode: 'none', AutoRemove: false, Memory: 256 * 1024 * 1024 },
  });
  return KernelConnection.start(container, 20_000, 1 << 20);
}

describe('python sandbox: the host survives a hostile kernel', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a reply whose output is not a string',
      `os.write(1, (json.dumps({'id': req['id'], 'output': 123}) + '\\n').encode())`,
      /output is not a string/,
    ],
    [
      'a reply whose file list is not a list of strings',
      `os.write(1, (json.dumps({'id': req['id'], 'output': '', 'files': [1, {}]}) + '\\n').encode())`,
      /files is not a list of strings/,
    ],
    [
      'a reply whose error is an object',
      `os.write(1, (json.dumps({'id': req['id'], 'output': '', 'error': {'x': 1}}) + '\\n').encode())`,
      /error is not a string or null/,
    ],
    [
      '40 MB without a newline',
      `blob = b'A' * (1 << 20)
for _ in range(40):
    os.write(1, blob)`,
      /reply over 1048576 bytes/,
    ],
  ];
  it.each(cases)('attack: %s', async (_name, reply, why) => {
    const conn = await hostileKernel(reply);
    try {
      const before = process.memoryUsage().rss;
      const id = conn.send('1', 20_000);
      const t = performance.now();
      const r = await conn.wait(id, 20_000);
      expect(r.kind).toBe('died');
      expect(conn.failure).toMatch(why);
      expect(performance.now() - t).toBeLessThan(10_000);
      expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024);
    } finally {
      conn.close();
      await conn.container.remove({ force: true }).catch(() => {});
    }
  });
});

describe('python sandbox: a container stops itself when its owner disappears', () => {
  it('attack: the owner is killed during a busy cell; the container stops without waiting for a sweep', {
    timeout: 60_000,
  }, async () => {
    const id = `busy-${process.pid}`;
    const script = join(scratch, 'busy.mts');
    await writeFile(
      script,
      `import { PythonSandbox } from ${JSON.stringify(PYTHON_INDEX)};
const sandbox = new PythonSandbox({ image: ${JSON.stringify(image)}, exitHooks: false });
await sandbox.run(${JSON.stringify(id)}, 'x = 1');
console.log(sandbox.containerIds()[0]);
await sandbox.run(${JSON.stringify(id)}, 'while True:\\n    pass', { timeoutMs: 600_000 });
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const containerId = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', (code) => reject(new Error(`host exited (${code}) early`)));
    });
    const container = docker.getContainer(containerId);
    try {
      // The busy cell is running: the container burns CPU.
      const cpu = async () =>
        ((await container.stats({ stream: false })) as { cpu_stats: { cpu_usage: { total_usage: number } } })
          .cpu_stats.cpu_usage.total_usage;
      let busy = false;
      for (let i = 0; i < 20 && !busy; i++) {
        const a = await cpu();
        await new Promise((r) => setTimeout(r, 500));
        busy = (await cpu()) - a > 150e6;
      }
      expect(busy).toBe(true);
      child.kill('SIGKILL');
      const t = Date.now();
      let running = true;
      while (running && Date.now() - t < 20_000) {
        await new Promise((r) => setTimeout(r, 200));
        running = (await container.inspect()).State.Running;
      }
      expect(running).toBe(false);
      expect(Date.now() - t).toBeLessThan(10_000);
    } finally {
      await container.remove({ force: true }).catch(() => {});
    }
  });
  it('attack: the owner of a detached session dies during a busy cell; the kernel stops the cell itself', {
    timeout: 60_000,
  }, async () => {
    const id = `busy-detached-${process.pid}`;
    const script = join(scratch, 'busy-detached.mts');
    await writeFile(
      script,
      `import { PythonSandbox } from ${JSON.stringify(PYTHON_INDEX)};
const sandbox = new PythonSandbox({ image: ${JSON.stringify(image)}, detached: true });
await sandbox.run(${JSON.stringify(id)}, 'x = 1');
const [info] = await sandbox.docker.listContainers({ filters: { label: ['harmonia.python.session=${id}'] } });
console.log(info.Id);
await sandbox.run(${JSON.stringify(id)}, 'while True:\\n    pass', { timeoutMs: 5000 });
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const containerId = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', (code) => reject(new Error(`host exited (${code}) early`)));
    });
    const container = docker.getContainer(containerId);
    const cpu = async () =>
      ((await container.stats({ stream: false })) as { cpu_stats: { cpu_usage: { total_usage: number } } })
        .cpu_stats.cpu_usage.total_usage;
    const burning = async () => {
      const a = await cpu();
      await new Promise((r) => setTimeout(r, 1000));
      return (await cpu()) - a > 300e6;
    };
    try {
      let busy = false;
      for (let i = 0; i < 10 && !busy; i++) busy = await burning();
      expect(busy).toBe(true);
      child.kill('SIGKILL'); // nobody will ever interrupt this cell now; stdin of a detached session stays open
      const t = Date.now();
      while ((await burning()) && Date.now() - t < 25_000) {}
      expect(await burning()).toBe(false);
      expect(Date.now() - t).toBeLessThan(20_000);
    } finally {
      child.kill('SIGKILL');
      await container.remove({ force: true }).catch(() => {});
    }
  });
});
