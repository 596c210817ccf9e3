/**
 * Python tool benchmark: per-call overhead of our attach-stream kernel against `docker exec` per call on the same
 * container in the same run, and the cold start of a session.
 * Run from the repo root after `pnpm -s build` and `pnpm -s harmonia python build-image`:
 *   node --import tsx bench/python.ts
 */
import { PythonSandbox } from '@harmonia/tools';

const ROUNDS = 3;
const WARM_CALLS = 200;
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
  const execTrue: number[] = [];
  const execPython: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < WARM_CALLS; i++) {
      const t = performance.now();
      await sandbox.run(session, 'x += 1');
      warm.push(performance.now() - t);
    }
    for (let i = 0; i < EXEC_CALLS; i++) {
      execTrue.push(await timed(() => dockerExec(container, ['true'])));
      execPython.push(await timed(() => dockerExec(container, ['python3', '-c', 'pass'])));
    }
  }
  const check = await sandbox.run(session, 'x');
  if (check.output !== `${ROUNDS * WARM_CALLS}\n`) throw new Error(`state check failed: ${check.output}`);
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
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] as number;
}

await main();
