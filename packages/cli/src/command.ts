import { PassThrough } from 'node:stream';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * The shape every `harmonia` subcommand group implements. A group lives in its own file under `commands/`
 * and is listed once in `commands/index.ts`.
 */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

export interface Command {
  /** The word typed after `harmonia`. */
  name: string;
  /** One line for `harmonia --help`. */
  summary: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[], io: CliIO): Promise<number>;
}

/** A usage error: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Subcommand {
  summary: string;
  /** Full help text, shown by `--help`. */
  help: string;
  run(args: string[], io: CliIO): Promise<number>;
}

/** Builds a command whose first argument picks a subcommand (`harmonia harmony render ...`). */
export function commandGroup(name: string, summary: string, subs: Record<string, Subcommand>): Command {
  const help = () =>
    [
      `Usage: harmonia ${name} <subcommand> [options]`,
      '',
      summary,
      '',
      'Subcommands:',
      ...Object.entries(subs).map(([k, s]) => `  ${k.padEnd(14)} ${s.summary}`),
      '',
      `Run 'harmonia ${name} <subcommand> --help' for its options.`,
      '',
    ].join('\n');
  return {
    name,
    summary,
    async run(args, io) {
      const [sub, ...rest] = args;
      if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
        io.stdout.write(help());
        return sub === undefined ? 2 : 0;
      }
      const cmd = subs[sub];
      if (!cmd) {
        io.stderr.write(`harmonia ${name}: unknown subcommand '${sub}'\n\n${help()}`);
        return 2;
      }
      if (rest.includes('--help') || rest.includes('-h')) {
        io.stdout.write(cmd.help.endsWith('\n') ? cmd.help : `${cmd.help}\n`);
        return 0;
      }
      return cmd.run(rest, io);
    },
  };
}

/** Reads all of stdin as UTF-8. */
export async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** What `parseFlags` returns for each declared flag: booleans for `type: 'boolean'`, strings otherwise. */
export type FlagValues<T extends FlagOptions> = {
  [K in keyof T]?: T[K] extends { type: 'boolean' }
    ? boolean
    : T[K] extends { multiple: true }
      ? string[]
      : string;
};

/** Parses flags strictly (`node:util` parseArgs); an unknown or malformed flag is a `UsageError` (exit 2). */
export function parseFlags<const T extends FlagOptions>(
  args: string[],
  options: T,
  { positionals = false }: { positionals?: boolean } = {},
): { values: FlagValues<T>; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals: positionals, strict: true });
    return { values: r.values as FlagValues<T>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** An in-memory `CliIO` (stdin given up front, output collected): for tests and for embedding the CLI. */
export function memoryIO(stdinText = ''): { io: CliIO; stdout(): string; stderr(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  stdin.end(stdinText);
  return { io: { stdout, stderr, stdin }, stdout: () => out, stderr: () => err };
}
