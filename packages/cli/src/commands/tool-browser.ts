/**
 * `harmonia tool browser search|open|find` — one browser tool call; prints the tool message the model would read.
 * Calls share their page stack through `--state FILE`. Exit codes: 0 ok, 1 the tool answered with an error text
 * (still printed on stdout: it is what the model would see) or a bad state file, 2 bad flags.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  type BrowserToolOptions,
  createBrowserTool,
  LocalSearchBackend,
  parseAllowHosts,
  SEARCH_BACKENDS,
  type SessionState,
} from '@harmonia/tools';
import { type CliIO, type Command, commandGroup, type Subcommand, UsageError } from '../command.js';

const CONVERSATION = 'cli';

const COMMON_OPTIONS = {
  state: { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  'search-backend': { type: 'string' },
  docs: { type: 'string' },
  chromium: { type: 'string' },
  timeout: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

const COMMON_HELP = `Common options:
  --state FILE            keep the page stack in FILE between calls (created if missing)
  --allow-host HOST       allow a private host, address or CIDR range (repeatable; e.g. 127.0.0.1)
  --search-backend NAME   ${SEARCH_BACKENDS.join(' | ')} (default: $HARMONIA_SEARCH_BACKEND or searxng)
                          keys/URLs from the environment: SEARXNG_URL, BRAVE_SEARCH_API_KEY, EXA_API_KEY, YDC_API_KEY
  --docs DIR              documents for the local backend (.md, .txt, .html)
  --chromium PATH         Chromium binary (default: $HARMONIA_CHROMIUM or /usr/bin/chromium)
  --timeout MS            time limit for the call (default 30000)`;

type Opts = NonNullable<ParseArgsConfig['options']>;
function flags<const T extends Opts>(args: string[], options: T) {
  try {
    return parseArgs({
      args,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function int(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isInteger(n)) {
    throw new UsageError(`${flag} must be an integer, got '${String(value)}'`);
  }
  return n;
}

interface Common {
  state?: string;
  'allow-host'?: string[];
  'search-backend'?: string;
  docs?: string;
  chromium?: string;
  timeout?: string;
}

async function runCall(
  io: CliIO,
  common: Common,
  fn: string,
  args: Record<string, unknown>,
): Promise<number> {
  const name = common['search-backend'] ?? (common.docs ? 'local' : undefined);
  if (name !== undefined && !(SEARCH_BACKENDS as readonly string[]).includes(name)) {
    throw new UsageError(`--search-backend must be one of ${SEARCH_BACKENDS.join(', ')}, got '${name}'`);
  }
  if (name === 'local' && !common.docs) throw new UsageError('--search-backend local needs --docs DIR');
  const timeout = int(common.timeout, '--timeout');
  if (timeout !== undefined && timeout <= 0)
    throw new UsageError(`--timeout must be above 0, got ${timeout}`);
  try {
    parseAllowHosts(common['allow-host'] ?? []);
  } catch (e) {
    throw new UsageError(`--allow-host: ${(e as Error).message}`);
  }

  let state: SessionState | undefined;
  if (common.state) {
    let text: string | undefined;
    try {
      text = await readFile(common.state, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        io.stderr.write(`harmonia tool browser: cannot read ${common.state}: ${(e as Error).message}\n`);
        return 1;
      }
    }
    if (text !== undefined && text.trim() !== '') {
      try {
        state = JSON.parse(text) as SessionState;
      } catch (e) {
        io.stderr.write(
          `harmonia tool browser: ${common.state} is not JSON (${(e as Error).message}); left as is\n`,
        );
        return 1;
      }
    }
  }

  const options: BrowserToolOptions = {
    allowHosts: common['allow-host'] ?? [],
    executablePath: common.chromium,
    callTimeoutMs: timeout,
  };
  let tool: ReturnType<typeof createBrowserTool>;
  try {
    if (name === 'local') {
      options.searchBackend = await LocalSearchBackend.fromDirectory(common.docs!);
    } else if (name) {
      options.searchBackend = name as BrowserToolOptions['searchBackend'];
    }
    tool = createBrowserTool(options);
  } catch (e) {
    io.stderr.write(`harmonia tool browser: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    if (state) {
      try {
        tool.restore(CONVERSATION, state);
      } catch (e) {
        io.stderr.write(`harmonia tool browser: ${common.state}: ${(e as Error).message}; left as is\n`);
        return 1;
      }
    }
    const out = await tool.call(fn, JSON.stringify(args), {
      conversationId: CONVERSATION,
      signal: new AbortController().signal,
      channel: 'analysis',
    });
    io.stdout.write(`${out.text}\n`);
    if (out.meta?.error) return 1;
    if (common.state) {
      // Write-then-rename: an interrupted write never leaves a half state file.
      const tmp = `${common.state}.tmp-${process.pid}`;
      await writeFile(tmp, JSON.stringify(tool.session(CONVERSATION).toState()));
      await rename(tmp, common.state);
    }
    return 0;
  } finally {
    await tool.dispose();
  }
}

const search: Subcommand = {
  summary: 'search the web (or --docs) and show the results page',
  help: `Usage: harmonia tool browser search --query TEXT [--topn N] [options]

Runs browser.search and prints the tool message the model would read.

${COMMON_HELP}`,
  async run(args, io) {
    const v = flags(args, { query: { type: 'string' }, topn: { type: 'string' } });
    if (v.query === undefined) throw new UsageError('search needs --query TEXT');
    return runCall(io, v, 'search', { query: v.query, topn: int(v.topn, '--topn') });
  },
};

const open: Subcommand = {
  summary: 'open a link id or a URL, or scroll the current page',
  help: `Usage: harmonia tool browser open [--id N|URL] [--cursor N] [--loc N] [--num-lines N] [--view-source] [options]

Runs browser.open and prints the tool message the model would read. Without --id it scrolls the page at
--cursor (default: the newest) to --loc.

${COMMON_HELP}`,
  async run(args, io) {
    const v = flags(args, {
      id: { type: 'string' },
      cursor: { type: 'string' },
      loc: { type: 'string' },
      'num-lines': { type: 'string' },
      'view-source': { type: 'boolean' },
    });
    const id = v.id === undefined ? undefined : /^-?\d+$/.test(v.id) ? Number(v.id) : v.id;
    return runCall(io, v, 'open', {
      id,
      cursor: int(v.cursor, '--cursor'),
      loc: int(v.loc, '--loc'),
      num_lines: int(v['num-lines'], '--num-lines'),
      view_source: v['view-source'] === true ? true : undefined,
    });
  },
};

const find: Subcommand = {
  summary: 'find a text in the current page (or the page at --cursor)',
  help: `Usage: harmonia tool browser find --pattern TEXT [--cursor N] [options]

Runs browser.find and prints the tool message the model would read; open a result with
'open --id N' on the find page.

${COMMON_HELP}`,
  async run(args, io) {
    const v = flags(args, { pattern: { type: 'string' }, cursor: { type: 'string' } });
    if (v.pattern === undefined) throw new UsageError('find needs --pattern TEXT');
    return runCall(io, v, 'find', { pattern: v.pattern, cursor: int(v.cursor, '--cursor') });
  },
};

const group = commandGroup(
  'tool browser',
  'One browser tool call (search, open, find) on Playwright + Chromium.',
  {
    search,
    open,
    find,
  },
);

export const toolBrowserCommand: Command = {
  ...group,
  name: 'browser',
  summary: 'The browser tool: search, open, find (prints the tool message).',
};
