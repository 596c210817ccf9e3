import { createServer, type Server } from 'node:net';
import type Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPythonTool,
  formatResult,
  LABEL,
  LABEL_OWNER,
  type PythonRunResult,
  PythonSandbox,
} from '../../src/python/index.js';
import { requireDocker } from './docker.js';

let docker: Docker;
let sandbox: PythonSandbox;
let seq = 0;
/** A fresh session id per test, so one test's state never leaks into another's assertions. */
const session = () => `t${process.pid}-${++seq}`;

async function run(id: string, code: string, timeoutMs?: number): Promise<PythonRunResult> {
  return sandbox.run(id, code, { timeoutMs });
}

async function ourContainers(): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({
    all: true,
    filters: { label: [`${LABEL}=1`, `${LABEL_OWNER}=${process.pid}`] },
  });
}

let setupError: unknown;
beforeAll(async () => {
  try {
    const env = await requireDocker();
    docker = env.docker;
    sandbox = new PythonSandbox({ docker, image: env.image, interruptGraceMs: 1000 });
  } catch (err) {
    setupError = err;
  }
});
// Without Docker every test fails with the setup message (rather than being skipped).
beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  await sandbox?.dispose();
});

describe('python sandbox: notebook behaviour', () => {
  it('keeps globals, imports and functions across calls', async () => {
    const id = session();
    expect((await run(id, 'x = 41\nimport math\ndef f(v):\n    return v * 2')).output).toBe('');
    const r = await run(id, 'x += 1\nf(x), math.sqrt(16)');
    expect(r.output).toBe('(84, 4.0)\n');
    expect(r.error).toBeNull();
  });

  it('shows the last expression like a notebook cell, but not None or a trailing statement', async () => {
    const id = session();
    expect((await run(id, 'print("a")\n[1, 2][::-1]')).output).toBe('a\n[2, 1]\n');
    expect((await run(id, 'None')).output).toBe('');
    expect((await run(id, 'y = 3')).output).toBe('');
    expect((await run(id, '_')).output).toBe('[2, 1]\n');
    expect(formatResult(await run(id, 'y = 4'))).toBe('[no output]');
    expect((await run(id, 'display(y, "s")\ny + 1')).output).toBe("4\n's'\n5\n");
  });

  it('captures stderr, subprocess output and tracebacks in order, without kernel frames', async () => {
    const id = session();
    const r = await run(
      id,
      'import sys, subprocess\nprint("out")\nprint("err", file=sys.stderr)\nsubprocess.run(["echo", "child"])\n1/0',
    );
    expect(r.error).toBe('ZeroDivisionError');
    expect(r.output).toMatch(
      /^out\nerr\nchild\nTraceback \(most recent call last\):\n {2}File "<cell-\d+>", line 5/,
    );
    expect(r.output).toContain('ZeroDivisionError: division by zero');
    expect(r.output).not.toContain('File "<string>"');
    const syntax = await run(id, 'def f(:\n  pass');
    expect(syntax.error).toBe('SyntaxError');
    expect(syntax.output).toContain('File "<cell-');
    expect(syntax.output).not.toContain('ast.py');
    // The kernel survives exit() and input() (stdin is not the request channel).
    expect((await run(id, 'import sys\nsys.exit(3)')).error).toBe('SystemExit');
    expect((await run(id, 'input()')).error).toBe('EOFError');
    expect((await run(id, '"alive"')).output).toBe("'alive'\n");
  });

  it('truncates long output with a marker, keeping the head and the tail', async () => {
    const id = session();
    const r = await run(id, 'print("start")\nprint("x" * 100_000)\nprint("end")');
    expect(r.truncated).toBe(true);
    expect(r.outputBytes).toBe(100_011);
    expect(r.output.startsWith('start\nxxx')).toBe(true);
    expect(r.output.trimEnd().endsWith('xxx\nend')).toBe(true);
    expect(r.output).toMatch(/\[\.\.\. \d+ bytes of output truncated \.\.\.\]/);
    expect(r.output.length).toBeLessThan(21_000);
  });

  it('bounds the output of a flood of printing without using disk', async () => {
    const id = session();
    const r = await run(
      id,
      'import sys\nfor _ in range(100):\n    sys.stdout.write("z" * 1_000_000)\n"done"',
    );
    expect(r.outputBytes).toBe(100_000_000 + 7);
    expect(r.output.length).toBeLessThan(21_000);
    expect(r.output.trimEnd().endsWith("zzz'done'")).toBe(true);
  });

  it('lists files written in /mnt/data (the working directory) and keeps them between calls', async () => {
    const id = session();
    const r = await run(id, 'import os\nopen("notes.txt", "w").write("hello")\nos.getcwd()');
    expect(r.output).toBe("'/mnt/data'\n");
    expect(r.files).toEqual(['/mnt/data/notes.txt']);
    expect(formatResult(r)).toContain('[files written in /mnt/data: /mnt/data/notes.txt]');
    const again = await run(id, 'open("/mnt/data/notes.txt").read()');
    expect(again.output).toBe("'hello'\n");
    expect(again.files).toEqual([]);
  });

  it('saves matplotlib figures as PNG files in /mnt/data', { timeout: 60_000 }, async () => {
    const id = session();
    const r = await run(
      id,
      'import numpy as np, pandas as pd\nimport matplotlib.pyplot as plt\n' +
        'df = pd.DataFrame({"x": np.arange(5), "y": np.arange(5) ** 2})\nplt.plot(df.x, df.y)\nplt.show()\nint(df.y.sum())',
    );
    expect(r.error).toBeNull();
    expect(r.output).toBe('30\n');
    expect(r.figures).toHaveLength(1);
    expect(r.figures[0]).toMatch(/^\/mnt\/data\/figure-\d+-1\.png$/);
    expect(formatResult(r)).toContain(`[figure saved: ${r.figures[0]}]`);
    const png = await run(id, `open(${JSON.stringify(r.figures[0])}, "rb").read(8)`);
    expect(png.output).toBe("b'\\x89PNG\\r\\n\\x1a\\n'\n");
  });
});

describe('python sandbox: time limits and failures', () => {
  it('interrupts a call past its limit and keeps the state', async () => {
    const id = session();
    await run(id, 'kept = "yes"\nopen("f.txt", "w").write("1")');
    const r = await run(id, 'import time\nwhile True:\n    time.sleep(0.01)', 1500);
    expect(r.timedOut).toBe(true);
    expect(r.stateLost).toBe(false);
    expect(r.error).toBe('KeyboardInterrupt');
    expect(r.ms).toBeGreaterThanOrEqual(1500);
    expect(formatResult(r)).toContain('timed out after 1.5 s and was interrupted');
    expect((await run(id, 'kept, open("f.txt").read()')).output).toBe("('yes', '1')\n");
  });

  it('restarts a kernel that ignores the interrupt and tells the model the state is lost', async () => {
    const id = session();
    await run(id, 'kept = 1');
    const r = await run(
      id,
      'import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass',
      1000,
    );
    expect(r.timedOut).toBe(true);
    expect(r.stateLost).toBe(true);
    expect(formatResult(r)).toMatch(/timed out after 1 s .*restarted\. All state was lost/);
    const after = await run(id, 'kept');
    expect(after.error).toBe('NameError');
  });

  it('recovers from an out-of-memory kill with a fresh kernel', async () => {
    const id = session();
    await run(id, 'kept = 1');
    const r = await run(id, 'blob = bytearray(2 * 1024 ** 3)\nblob[::4096] = b"x" * len(blob[::4096])');
    expect(r.stateLost).toBe(true);
    expect(r.timedOut).toBe(false);
    expect(r.restartReason).toMatch(/out of memory/);
    expect(formatResult(r)).toContain('restarted because it ran out of memory (limit 512 MiB)');
    expect((await run(id, '"kept" in globals(), 6 * 7')).output).toBe('(False, 42)\n');
  });

  it('recovers when the kernel process exits under it', async () => {
    const id = session();
    const r = await run(id, 'import os\nos._exit(7)');
    expect(r.stateLost).toBe(true);
    expect(r.restartReason).toBe('the python process exited with code 7');
    expect((await run(id, '1 + 1')).output).toBe('2\n');
  });
});

describe('python sandbox: isolation', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((s) => s.end('host'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('has no network: only loopback, no routes, and the host loopback is out of reach', async () => {
    const id = session();
    const r = await run(
      id,
      'import socket\nprint(socket.if_nameindex())\nprint(open("/proc/net/route").read().strip().splitlines()[1:])\n' +
        `s = socket.socket()\ns.settimeout(2)\ntry:\n    s.connect(("127.0.0.1", ${port}))\n    print("connected")\n` +
        'except OSError as e:\n    print("refused", e.errno)',
    );
    expect(r.output).toBe("[(1, 'lo')]\n[]\nrefused 111\n");
  });

  it('runs as nobody with no capabilities and no privilege escalation', async () => {
    const id = session();
    const r = await run(
      id,
      'import os\nstatus = open("/proc/self/status").read()\n' +
        'caps = [l.split()[1] for l in status.splitlines() if l.startswith(("CapEff", "CapBnd", "CapPrm"))]\n' +
        'nnp = [l.split()[1] for l in status.splitlines() if l.startswith("NoNewPrivs")]\n(os.getuid(), os.getgid(), caps, nnp)',
    );
    expect(r.output).toBe(
      "(65534, 65534, ['0000000000000000', '0000000000000000', '0000000000000000'], ['1'])\n",
    );
  });

  it('allows writes only in /mnt/data and the /tmp tmpfs, each with a size limit', async () => {
    const id = session();
    const r = await run(
      id,
      'import errno\nres = {}\nfor p in ["/x", "/etc/x", "/usr/x", "/var/tmp/x", "/home/x", "/tmp/x", "/mnt/data/x"]:\n' +
        '    try:\n        open(p, "w").write("1")\n        res[p] = "ok"\n' +
        '    except OSError as e:\n        res[p] = errno.errorcode[e.errno]\nres',
    );
    expect(r.output).toBe(
      "{'/x': 'EROFS', '/etc/x': 'EROFS', '/usr/x': 'EROFS', '/var/tmp/x': 'EROFS', '/home/x': 'EROFS', '/tmp/x': 'ok', '/mnt/data/x': 'ok'}\n",
    );
    const full = await run(
      id,
      'import errno\nchunk = b"0" * (1 << 20)\ntry:\n    with open("/tmp/fill", "wb") as f:\n        while True:\n            f.write(chunk)\n' +
        'except OSError as e:\n    print(errno.errorcode[e.errno])\nimport os\nos.remove("/tmp/fill")',
    );
    expect(full.output).toBe('ENOSPC\n');
  });

  it('contains a fork bomb at the process limit and keeps the kernel', async () => {
    const id = session();
    await run(id, 'kept = 1');
    const r = await run(id, 'import os\nwhile True:\n    os.fork()', 10_000);
    expect(r.error).toBe('BlockingIOError');
    expect(r.stateLost).toBe(false);
    const after = await run(
      id,
      'import time\ntime.sleep(0.2)\nkept, int(open("/sys/fs/cgroup/pids/pids.max").read()), int(open("/sys/fs/cgroup/pids/pids.current").read()) < 10',
    );
    expect(after.output).toBe('(1, 128, True)\n');
  });

  it('gives a cell that runs on every CPU of the container back (threads included), after the short-cell pin', {
    timeout: 30_000,
  }, async () => {
    const id = session();
    // A short cell starts on one CPU with the supervisor; past a few ms the kernel lifts that pin from every thread.
    await run(id, 'import os, threading, time\nevery = set(range(os.cpu_count()))\nseen = []');
    // The thread starts first thing in the cell, inside the pinned moment.
    const r = await run(
      id,
      `t = threading.Thread(target=lambda: (time.sleep(0.1), seen.append(os.sched_getaffinity(0))))
t.start()
t.join()
seen[0] == every, os.sched_getaffinity(0) == every`,
    );
    expect(r.output).toBe('(True, True)\n');
    // The next short cell still answers, and the state is there.
    expect((await run(id, 'every == set(range(os.cpu_count()))')).output).toBe('True\n');
    // A background thread left by a short cell gets every CPU once the session is idle for a second.
    await run(
      id,
      'bg = []\nthreading.Thread(target=lambda: (time.sleep(2.5), bg.append(os.sched_getaffinity(0))), daemon=True).start()',
    );
    // No call meanwhile (a call would keep the pin): wait, then look.
    let seen = '[]\n';
    for (let i = 0; i < 6 && seen === '[]\n'; i++) {
      await new Promise((r) => setTimeout(r, i === 0 ? 3000 : 1500));
      seen = (await run(id, '[s == every for s in bg]')).output;
    }
    expect(seen).toBe('[True]\n');
  });

  it('enforces the memory and CPU limits from inside', async () => {
    const id = session();
    const r = await run(
      id,
      'int(open("/sys/fs/cgroup/memory/memory.limit_in_bytes").read()), int(open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read())',
    );
    expect(r.output).toBe(`(${512 * 1024 * 1024}, 100000)\n`);
  });
});

describe('python tool namespace', () => {
  it('is placed in the system message with the official stateful text', () => {
    const tool = createPythonTool({ sandbox });
    expect(tool.name).toBe('python');
    expect(tool.placement).toBe('system');
    const config = tool.config();
    expect(config.name).toBe('python');
    expect(config.tools).toEqual([]);
    expect(config.description).toBe(
      'Use this tool to execute Python code in your chain of thought. The code will not be shown to the user. This tool should be used for internal reasoning, but not for code that is intended to be visible to the user (e.g. when creating plots, tables, or files).\n\n' +
        "When you send a message containing Python code to python, it will be executed in a stateful Jupyter notebook environment. python will respond with the output of the execution or time out after 120.0 seconds. The drive at '/mnt/data' can be used to save and persist user files. Internet access for this session is UNKNOWN. Depends on the cluster.",
    );
  });

  it('tells the model a limit other than 120 s', async () => {
    const tool = createPythonTool({ docker, timeoutMs: 30_000 });
    expect(tool.config().description).toContain('or time out after 30.0 seconds.');
    await tool.dispose();
  });

  it('runs calls per conversation and frees a conversation on request', async () => {
    const tool = createPythonTool({ sandbox });
    const ctx = (conversationId: string) => ({
      conversationId,
      signal: new AbortController().signal,
      channel: 'analysis',
    });
    const a = session();
    const b = session();
    await tool.call(undefined, 'v = "a"', ctx(a));
    await tool.call(undefined, 'v = "b"', ctx(b));
    const out = await tool.call(undefined, 'v', ctx(a));
    expect(out.text).toBe("'a'");
    expect(out.meta?.sessionId).toBe(a);
    await tool.disposeConversation(b);
    const fresh = await tool.call(undefined, '"v" in globals()', ctx(b));
    expect(fresh.text).toBe('False');
  });

  it('treats an aborted call like a timeout: interrupted, state kept', async () => {
    const tool = createPythonTool({ sandbox });
    const id = session();
    await tool.call(undefined, 'kept = 2', {
      conversationId: id,
      signal: new AbortController().signal,
      channel: 'analysis',
    });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const out = await tool.call(undefined, 'import time\ntime.sleep(60)', {
      conversationId: id,
      signal: abort.signal,
      channel: 'analysis',
    });
    expect(out.text).toContain('KeyboardInterrupt');
    expect(out.meta?.timedOut).toBe(true);
    expect(out.meta?.cancelled).toBe(true);
    expect(out.text).toContain(
      '[The call was cancelled and was interrupted. Variables and files from before',
    );
    const after = await tool.call(undefined, 'kept', {
      conversationId: id,
      signal: new AbortController().signal,
      channel: 'analysis',
    });
    expect(after.text).toBe('2');
  });
});

describe('python sandbox: cleanup', () => {
  it('leaves no container behind after dispose', async () => {
    expect((await ourContainers()).length).toBeGreaterThan(0);
    await sandbox.dispose();
    expect(await ourContainers()).toEqual([]);
    await expect(sandbox.run('late', '1')).rejects.toThrow(/disposed/);
  });
});
