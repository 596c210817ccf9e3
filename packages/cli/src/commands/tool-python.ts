/**
 * `harmonia tool python --session ID --code CODE` — runs one cell in that session's sandbox and prints the tool
 * message the model would read. Sessions are detached containers found again by label, so state carries across
 * invocations until `--dispose` or the idle limit.
 */
import { parseArgs } from 'node:util';
import { formatResult, PythonSandbox } from '@harmonia/tools';
import { type Command, readStdin, UsageError } from '../command.js';

const HELP = `Usage: harmonia tool python --session ID [--code CODE | < code.py] [--timeout SECONDS] [--json]
       harmonia tool python --session ID --dispose

Runs one python tool call in the sandbox of session ID and prints the tool message the model would read. The
session's container outlives this command: variables, imports and /mnt/data files are there on the next call.

  --session ID       session (conversation) id: letters, digits, '.', '_', '-'
  --code CODE        the code; without it, code is read from stdin
  --timeout SECONDS  per-call limit (default 120, what the model is told)
  --idle SECONDS     the session's kernel stops after this long unused (default 900); the next call starts afresh
  --image IMAGE      sandbox image (default: the one 'harmonia python build-image' builds)
  --json             print the full result as JSON instead of the tool message
  --dispose          remove the session's container and exit

Exit code: 0 when the cell ran (even if it raised: the traceback is the tool message), 1 when the sandbox could
not run it (no Docker, no image), 2 for bad flags.`;

export const toolPythonCommand: Command = {
  name: 'python',
  summary: 'Run one python call in a session sandbox (Docker).',
  async run(args, io) {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    let v: {
      session?: string;
      code?: string;
      timeout?: string;
      idle?: string;
      image?: string;
      json?: boolean;
      dispose?: boolean;
    };
    try {
      v = parseArgs({
        args,
        options: {
          session: { type: 'string' },
          code: { type: 'string' },
          timeout: { type: 'string' },
          idle: { type: 'string' },
          image: { type: 'string' },
          json: { type: 'boolean' },
          dispose: { type: 'boolean' },
        },
        strict: true,
        allowPositionals: false,
      }).values;
    } catch (e) {
      throw new UsageError(`${(e as Error).message}\n\n${HELP}`);
    }
    if (v.session === undefined) throw new UsageError('--session ID is required');
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(v.session)) {
      throw new UsageError(`--session '${v.session}' must be 1-128 letters, digits, '.', '_' or '-'`);
    }
    if (v.dispose && v.code !== undefined) throw new UsageError('--dispose takes no --code');
    const timeoutMs = seconds(v.timeout, '--timeout') ?? 120_000;
    const idleMs = seconds(v.idle, '--idle') ?? 900_000;
    const sandbox = new PythonSandbox({ detached: true, image: v.image, timeoutMs, idleTimeoutMs: idleMs });
    try {
      if (v.dispose) {
        const removed = await sandbox.disposeSession(v.session);
        io.stdout.write(
          removed ? `removed session ${v.session}\n` : `no container for session ${v.session}\n`,
        );
        return 0;
      }
      const code = v.code ?? (await readStdin(io.stdin));
      const result = await sandbox.run(v.session, code);
      io.stdout.write(v.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatResult(result)}\n`);
      return 0;
    } finally {
      // Detached: this only drops our attach stream; the container stays for the next invocation.
      await sandbox.dispose();
    }
  },
};

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag} must be a positive number of seconds, got '${value}'`);
  return Math.round(n * 1000);
}
