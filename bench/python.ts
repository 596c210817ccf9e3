/**
 * Python tool benchmark: per-call overhead of our attach-stream kernel against `docker exec` per call on the same
 * container in the same run, and the cold start of a session.
 * Run from the repo root after `pnpm -s build` and `pnpm -s harmonia python build-image`:
 *   node --import tsx bench/python.ts
 * With `--baseline <module>` (another build of @harmonia/tools, e.g. an older checkout's
 * `packages/tools/dist/index.js`), that build's warm call is measured too, in rounds interleaved with ours (order
 * alternating), and the ratio printed: a before/after comparison taken at the same moment on the same host.
 */
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PythonSandbox } from '@harmonia/tools';

const baselineArg = process.argv.indexOf('--baseline');
const baselinePath = baselineArg >= 0 ? process.argv[baselineArg + 1] : undefined;
if (baselineArg >= 0 && !baselinePath) {
  console.error('usage: bench/python.ts [--baseline <path to a @harmonia/tools build, e.g. dist/index.js>]');
  process.exit(2);
}
interface Runner {
  run(sessionId: string, code: string): Promise<{ output: string }>;
  dispose(): Promise<void>;
}
const baseline: Runner | undefined = baselinePath
  ? new (
      (await import(pathToFileURL(resolve(baselinePath)).href)) as {
        PythonSandbox: new () => Runner;
      }
    ).PythonSandbox()
  : undefined;

const ROUNDS = baseline ? 10 : 3;
const WARM_CALLS = baseline ? 100 : 200;
const EXEC_CALLS = 20;
const COLD_SESSIONS = 4;

const sandbox = new PythonSandbox();
const docker = sandbox.docker;
type Container = ReturnType<typeof docker.getContainer>;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** One `docker exec` round trip, the way a stateless tool would run each call: create, start, read to the end. */
async function dockerExec(container: Container, cmd: string[]): Promise<void> {
  const exec = await container.exec({
    Cmd: cmd,
    AttachStdout: true,
    AttachStderr: true,
    User: '65534:65534',
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
    stream.resume();
  });
  const info = await exec.inspect();
  if (info.ExitCode !== 0) throw new Error(`${cmd.join(' ')} exited ${info.ExitCode}`);
}

async function main(): Promise<void> {
  // Cold start: the first session also pays the engine/image check and the orphan sweep.
  const first = await timed(() => sandbox.run('bench-cold-0', 'pass'));
  const cold: number[] = [];
  for (let i = 1; i <= COLD_SESSIONS; i++)
    cold.push(await timed(() => sandbox.run(`bench-cold-${i}`, 'pass')));
  const sci = await timed(() =>
    sandbox.run(
      'bench-cold-1',
      'import numpy, pandas, matplotlib.pyplot as plt\nplt.plot([1, 2])\nnumpy.__version__',
    ),
  );
  for (let i = 0; i <= COLD_SESSIONS; i++) await sandbox.disposeSession(`bench-cold-${i}`);

  const session = 'bench-warm';
  await sandbox.run(session, 'x = 0');
  const [id] = sandbox.containerIds();
  const container = docker.getContainer(id as string);
  const warm: number[] = [];
  const warmBaseline: number[] = [];
  const execTrue: number[] = [];
  const execPython: number[] = [];
  const warmRound = async (runner: Runner, id: string, into: number[]) => {
    for (let i = 0; i < WARM_CALLS; i++) {
      const t = performance.now();
      await runner.run(id, 'x += 1');
      into.push(performance.now() - t);
    }
  };
  if (baseline) {
    await baseline.run(`${session}-baseline`, 'x = 0');
    for (let i = 0; i < 50; i++) await baseline.run(`${session}-baseline`, 'pass');
    for (let i = 0; i < 50; i++) await sandbox.run(session, 'pass');
  }
  for (let round = 0; round < ROUNDS; round++) {
    if (baseline && round % 2 === 1) await warmRound(baseline, `${session}-baseline`, warmBaseline);
    await warmRound(sandbox, session, warm);
    if (baseline && round % 2 === 0) await warmRound(baseline, `${session}-baseline`, warmBaseline);
    for (let i = 0; i < EXEC_CALLS; i++) {
      execTrue.push(await timed(() => dockerExec(container, ['true'])));
      execPython.push(await timed(() => dockerExec(container, ['python3', '-c', 'pass'])));
    }
  }
  const check = await sandbox.run(session, 'x');
  if (check.output !== `${ROUNDS * WARM_CALLS}\n`) throw new Error(`state check failed: ${check.output}`);
  if (baseline) {
    const other = await baseline.run(`${session}-baseline`, 'x');
    if (other.output !== `${ROUNDS * WARM_CALLS}\n`)
      throw new Error(`baseline state check failed: ${other.output}`);
    await baseline.dispose();
  }
  await sandbox.dispose();

  const warmMedian = median(warm);
  console.log('python tool (harmonia-python image, 1 CPU / 512 MiB sandbox)');
  console.log(`cold start, first session (incl. engine/image check + sweep): ${ms(first)}`);
  console.log(
    `cold start, new session (create + attach + start + ready + first call): median ${ms(median(cold))}, min ${ms(Math.min(...cold))} (n=${cold.length})`,
  );
  console.log(`first scientific cell (import numpy, pandas, matplotlib + plot): ${ms(sci)}`);
  console.log(
    `warm call 'x += 1' (ours, attach stream): median ${ms(warmMedian)}, p90 ${ms(percentile(warm, 0.9))}, min ${ms(Math.min(...warm))} (n=${warm.length})`,
  );
  console.log(
    `docker exec 'true' per call: median ${ms(median(execTrue))}, min ${ms(Math.min(...execTrue))} (n=${execTrue.length})`,
  );
  console.log(
    `docker exec 'python3 -c pass' per call: median ${ms(median(execPython))}, min ${ms(Math.min(...execPython))} (n=${execPython.length})`,
  );
  console.log(
    `ratio docker exec 'true' / ours: ${(median(execTrue) / warmMedian).toFixed(0)}x; 'python3 -c pass' / ours: ${(median(execPython) / warmMedian).toFixed(0)}x`,
  );
  console.log(`goal < 5 ms per warm call: ${warmMedian < 5 ? 'met' : 'NOT met'}`);
  if (baseline) {
    const base = median(warmBaseline);
    console.log(
      `warm call 'x += 1', baseline ${baselinePath} (same run, rounds interleaved): median ${ms(base)}, p90 ${ms(percentile(warmBaseline, 0.9))}, min ${ms(Math.min(...warmBaseline))} (n=${warmBaseline.length})`,
    );
    const ratio = warmMedian / base;
    console.log(
      `ratio ours / baseline (median): ${ratio.toFixed(3)}; goal within 10 %: ${ratio <= 1.1 ? 'met' : 'NOT met'}`,
    );
  }
  console.log(
    `load average (1, 5, 15 min): ${loadavg()
      .map((x) => x.toFixed(2))
      .join(', ')}`,
  );
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] as number;
}

await main();
