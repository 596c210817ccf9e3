import './wiring.js';
import { readFileSync } from 'node:fs';
import { BackendSpecError } from '@harmonia/core';
import { type CliIO, type Command, UsageError } from './command.js';
import { commands } from './commands/index.js';

/** The CLI package's version (package.json next to dist/). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function topHelp(list: readonly Command[]): string {
  return [
    'Usage: harmonia <command> [options]',
    '',
    'Harmonia: agents on gpt-oss, spoken to in Harmony.',
    '',
    'Commands:',
    ...list.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
    '',
    "Run 'harmonia help <command>' or 'harmonia <command> --help' for details; 'harmonia --version' for the version.",
    'Every command that needs a model reads $HARMONIA_BACKEND when --backend is not given.',
    '',
  ].join('\n');
}

/** Runs the command line with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO, list: readonly Command[] = commands): Promise<number> {
  const [first, ...afterFirst] = argv;
  if (first === '--version' || first === '-V' || first === 'version') {
    io.stdout.write(`harmonia ${version()}\n`);
    return 0;
  }
  // `harmonia help CMD [SUB]` is `harmonia CMD [SUB] --help`.
  const helpFor = first === 'help' && afterFirst.length > 0;
  const [name, ...rest] = helpFor ? [...afterFirst, '--help'] : argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topHelp(list));
    return name === undefined ? 2 : 0;
  }
  const cmd = list.find((c) => c.name === name);
  if (!cmd) {
    io.stderr.write(`harmonia: unknown command '${name}'\n\n${topHelp(list)}`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof BackendSpecError) {
      io.stderr.write(`harmonia ${name}: ${err.message}\n`);
      return 2;
    }
    const e = err as Error;
    io.stderr.write(`harmonia ${name}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}\n`);
    if (process.env.HARMONIA_DEBUG) io.stderr.write(`${e?.stack ?? ''}\n`);
    return 1;
  }
}
