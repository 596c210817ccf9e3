/**
 * `harmonia harmony render|parse|encode|decode` — the Harmony layer on the command line. Other tools call these,
 * so the contracts (stdin/stdout JSON shapes, exit codes) are stable: 0 ok, 1 bad input or strict parse error
 * (message on stderr), 2 bad flags.
 */
import {
  conversationFromJson,
  decode,
  encode,
  isSpecialToken,
  isValidToken,
  type Message,
  messageToJson,
  type Role,
  renderConversation,
  renderConversationForCompletion,
  renderConversationForTraining,
  StreamParser,
} from '@harmonia/core';
import {
  type CliIO,
  commandGroup,
  type FlagOptions,
  parseFlags,
  readStdin,
  type Subcommand,
  UsageError,
} from '../command.js';

const ROLES: readonly Role[] = ['system', 'developer', 'user', 'assistant', 'tool'];
const APIS = ['completion', 'conversation', 'training'] as const;

const flags = <const T extends FlagOptions>(args: string[], options: T) => parseFlags(args, options).values;

function role(value: unknown, flag: string): Role {
  if (typeof value !== 'string' || !ROLES.includes(value as Role)) {
    throw new UsageError(`${flag} must be one of ${ROLES.join(', ')}, got '${String(value)}'`);
  }
  return value as Role;
}

/** Input problem: printed on stderr, exit code 1. */
function fail(io: CliIO, sub: string, message: string): number {
  io.stderr.write(`harmonia harmony ${sub}: ${message}\n`);
  return 1;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: `stdin is not valid JSON (${(e as Error).message})` };
  }
}

function tokenIds(value: unknown): number[] | string {
  if (!Array.isArray(value)) return 'expected a JSON array of token ids on stdin';
  for (const [i, t] of value.entries()) {
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
      return `item ${i} is not a token id: ${JSON.stringify(t)}`;
  }
  return value as number[];
}

const render: Subcommand = {
  summary: 'conversation JSON on stdin → token ids (JSON array)',
  help: `Usage: harmonia harmony render [--api completion|conversation|training] [--next-role ROLE] [--auto-drop-analysis]

Reads {"messages":[...]} (openai-harmony serde form; "content" may be a plain string) on stdin and prints
the rendered token ids as a JSON array.

  --api completion      the conversation, then <|start|>ROLE: the prompt for the next model call (default)
  --api conversation    the conversation only
  --api training        the conversation; a trailing assistant final message ends with <|return|>
  --next-role ROLE      role of the next message for --api completion (default: assistant)
  --auto-drop-analysis  drop analysis before the first final message once the last assistant message is final
                        (the official auto_drop_analysis; default: keep everything)`,
  async run(args, io) {
    const v = flags(args, {
      api: { type: 'string', default: 'completion' },
      'next-role': { type: 'string', default: 'assistant' },
      'auto-drop-analysis': { type: 'boolean', default: false },
    });
    const api = v.api as string;
    if (!(APIS as readonly string[]).includes(api))
      throw new UsageError(`--api must be one of ${APIS.join(', ')}, got '${api}'`);
    const nextRole = role(v['next-role'], '--next-role');
    const json = parseJson(await readStdin(io.stdin));
    if (!json.ok) return fail(io, 'render', json.error);
    let ids: number[];
    try {
      const conv = conversationFromJson(json.value);
      const opts = { autoDropAnalysis: v['auto-drop-analysis'] === true };
      if (api === 'completion') ids = renderConversationForCompletion(conv, nextRole, opts);
      else if (api === 'training') ids = renderConversationForTraining(conv, opts);
      else ids = renderConversation(conv, opts);
    } catch (e) {
      return fail(io, 'render', (e as Error).message);
    }
    io.stdout.write(`${JSON.stringify(ids)}\n`);
    return 0;
  },
};

const parse: Subcommand = {
  summary: 'token ids (JSON array) on stdin → messages JSON',
  help: `Usage: harmonia harmony parse [--role ROLE] [--strict]

Reads a JSON array of token ids (model output) on stdin and prints the parsed messages as a JSON array in
serde form. Ends the stream after the last id, so a message without a stop token is kept.

  --role ROLE   role of the first message when the prompt ended with <|start|>ROLE (usually assistant);
                without it the ids must begin with <|start|>
  --strict      the official parser's behaviour: malformed output is an error (stderr, exit 1). Default:
                lenient, which repairs malformed output and never fails`,
  async run(args, io) {
    const v = flags(args, { role: { type: 'string' }, strict: { type: 'boolean', default: false } });
    const first = v.role === undefined ? null : role(v.role, '--role');
    const json = parseJson(await readStdin(io.stdin));
    if (!json.ok) return fail(io, 'parse', json.error);
    const ids = tokenIds(json.value);
    if (typeof ids === 'string') return fail(io, 'parse', ids);
    const parser = new StreamParser({ role: first, strict: v.strict === true });
    let messages: Message[];
    try {
      for (const t of ids) parser.push(t);
      parser.end();
      messages = parser.messages;
    } catch (e) {
      return fail(io, 'parse', (e as Error).message);
    }
    io.stdout.write(`${JSON.stringify(messages.map(messageToJson))}\n`);
    return 0;
  },
};

const encodeCmd: Subcommand = {
  summary: 'text on stdin → token ids (JSON array)',
  help: `Usage: harmonia harmony encode [--allow-special]

Encodes all of stdin (exactly, including a trailing newline) with o200k_harmony and prints the ids as a JSON
array. Text like <|start|> is ordinary text unless --allow-special is given.`,
  async run(args, io) {
    const v = flags(args, { 'allow-special': { type: 'boolean', default: false } });
    const text = await readStdin(io.stdin);
    io.stdout.write(`${JSON.stringify(encode(text, { allowSpecial: v['allow-special'] === true }))}\n`);
    return 0;
  },
};

const decodeCmd: Subcommand = {
  summary: 'token ids (JSON array) on stdin → text',
  help: `Usage: harmonia harmony decode [--allow-special]

Decodes a JSON array of token ids and writes the text (no newline added; invalid UTF-8 as U+FFFD).
Special ids (<|start|>, <|reserved_200014|>, ...) are an error unless --allow-special is given.`,
  async run(args, io) {
    const v = flags(args, { 'allow-special': { type: 'boolean', default: false } });
    const json = parseJson(await readStdin(io.stdin));
    if (!json.ok) return fail(io, 'decode', json.error);
    const ids = tokenIds(json.value);
    if (typeof ids === 'string') return fail(io, 'decode', ids);
    for (const [i, t] of ids.entries()) {
      if (!isValidToken(t)) return fail(io, 'decode', `item ${i}: ${t} is not an o200k_harmony token id`);
      if (isSpecialToken(t) && v['allow-special'] !== true) {
        return fail(io, 'decode', `item ${i}: ${t} is a special token; pass --allow-special to decode it`);
      }
    }
    io.stdout.write(decode(ids));
    return 0;
  },
};

export const harmonyCommand = commandGroup('harmony', 'Harmony format: render, parse, encode, decode.', {
  render,
  parse,
  encode: encodeCmd,
  decode: decodeCmd,
});
