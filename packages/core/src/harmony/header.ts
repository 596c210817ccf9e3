/**
 * Message-header parsing: the official rules (`parse_header_from_string` in openai-harmony, spec §4.2) and the
 * lenient fallback used for real model output that the official parser rejects (spec §7).
 */
import type { Role } from './types.js';

export interface ParsedHeader {
  role: Role;
  name: string | null;
  recipient: string | null;
  channel: string | null;
  content_type: string | null;
}

export class HeaderError extends Error {}

const ROLES: ReadonlySet<string> = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
export const KNOWN_CHANNELS: readonly string[] = ['analysis', 'commentary', 'final'];
const CHANNEL = '<|channel|>';
const CONSTRAIN = '<|constrain|>';

export const isRole = (s: string | undefined): s is Role => s !== undefined && ROLES.has(s);

/** Rust `split_ascii_whitespace`. */
const splitAscii = (s: string): string[] => s.split(/[ \t\n\f\r]+/).filter((w) => w !== '');

/** Channel value: text after the marker up to the first whitespace or `<`. */
function channelValue(after: string): string {
  const m = /^[^\s<]*/u.exec(after);
  return m ? m[0] : '';
}

/**
 * The official header parser. Returns the header and the leftover words; throws `HeaderError` with the official
 * message for a missing channel value, a missing or unknown role.
 */
export function parseHeaderOfficial(
  text: string,
  role: Role | null,
  parseRecipientAndType: boolean,
): { header: ParsedHeader; leftover: string[] } {
  let s = text;
  let channel: string | null = null;
  const at = s.indexOf(CHANNEL);
  if (at >= 0) {
    const after = s.slice(at + CHANNEL.length);
    const value = channelValue(after);
    if (value === '') throw new HeaderError('channel marker present but no channel value found in header');
    channel = value;
    s = s.slice(0, at) + after.slice(value.length);
  }
  s = s.trim();
  if (s.includes(CONSTRAIN)) s = s.replaceAll(CONSTRAIN, ` ${CONSTRAIN}`).trim();
  const parts = splitAscii(s);
  let resolved: Role;
  let name: string | null = null;
  if (role !== null) {
    resolved = role;
  } else {
    const first = parts[0];
    if (first === undefined) throw new HeaderError('message header did not contain a role');
    if (isRole(first)) {
      resolved = first;
    } else if (parts.length > 1 || first.startsWith('to=')) {
      parts.shift();
      resolved = 'tool';
      name = first;
    } else {
      throw new HeaderError(`Unknown role: ${first}`);
    }
  }
  if (parts[0] === resolved) parts.shift();
  let recipient: string | null = null;
  let contentType: string | null = null;
  if (parseRecipientAndType && parts.length > 0) {
    const n = parts.length;
    const last = parts.pop() as string;
    if (last.startsWith('to=')) {
      recipient = last.slice(3);
    } else if (n === 1) {
      recipient = last;
    } else {
      contentType = last;
      const r = parts.pop() as string;
      recipient = r.startsWith('to=') ? r.slice(3) : r;
    }
  }
  return { header: { role: resolved, name, recipient, channel, content_type: contentType }, leftover: parts };
}

/** Official error text for leftover header words (Rust `{:?}` of `Option<String>`). */
export function leftoverMessage(leftover: readonly string[]): string {
  return `unexpected tokens remaining in message header: Some(${JSON.stringify(leftover.join(' '))})`;
}

export interface LenientHeader {
  header: ParsedHeader;
  /** What was wrong and what was done about it, one line each. */
  repairs: { kind: string; detail: string }[];
}

/** A channel like `commentary?` or `final.`: the known channel it starts with, else `undefined`. */
function knownChannelPrefix(ch: string): string | undefined {
  for (const k of KNOWN_CHANNELS)
    if (ch !== k && ch.startsWith(k) && !/^[A-Za-z0-9_]/.test(ch.slice(k.length))) return k;
  return undefined;
}

/**
 * Lenient header parsing: accepts every header the official parser accepts (same result), and repairs the rest:
 * several channel markers, `<|constrain|> json` with a space, recipient/content type in any order, `<|constrain|>`
 * taken for a recipient, a missing role, stray words (dropped, reported).
 */
export function parseHeaderLenient(text: string, role: Role | null, fallbackRole: Role): LenientHeader {
  const repairs: { kind: string; detail: string }[] = [];
  try {
    const { header, leftover } = parseHeaderOfficial(text, role, true);
    const r = header.recipient;
    const glued =
      (r?.includes('<|') && !(r.startsWith(CONSTRAIN) && !r.slice(1).includes('<|'))) ||
      header.content_type?.includes(CHANNEL);
    if (leftover.length === 0 && !glued) {
      if (header.recipient?.startsWith(CONSTRAIN) && header.content_type === null) {
        repairs.push({
          kind: 'constrain_as_recipient',
          detail: `'${header.recipient}' is a content type, not a recipient`,
        });
        header.content_type = header.recipient;
        header.recipient = null;
      }
      checkRecipient(header, text, repairs);
      normalizeChannel(header, repairs);
      return { header, repairs };
    }
  } catch {
    // fall through to the lenient reading
  }

  let s = text;
  let channel: string | null = null;
  const others: string[] = [];
  for (let at = s.indexOf(CHANNEL); at >= 0; at = s.indexOf(CHANNEL)) {
    const after = s.slice(at + CHANNEL.length);
    const value = channelValue(after);
    if (channel === null && value !== '') channel = value;
    else {
      others.push(value);
      repairs.push({ kind: 'extra_channel', detail: `ignored channel marker '${CHANNEL}${value}'` });
    }
    s = `${s.slice(0, at)} ${after.slice(value.length)}`;
  }
  s = s.replace(/<\|constrain\|>\s*/g, ` ${CONSTRAIN}`);
  const words = splitAscii(s);
  let resolved: Role | null = role;
  let name: string | null = null;
  const glued = words[0] !== undefined ? gluedRoleChannel(words[0]) : undefined;
  if (glued && (resolved === null || resolved === glued.role)) {
    // `assistantfinal`: the role with a channel that lost its marker.
    words.splice(0, 1, glued.role, glued.channel);
    repairs.push({
      kind: 'channel_without_marker',
      detail: `'${glued.role}${glued.channel}' read as role and channel`,
    });
  }
  if (resolved === null) {
    const first = words[0];
    if (isRole(first)) {
      resolved = first;
      words.shift();
    } else if (
      first !== undefined &&
      !first.startsWith('to=') &&
      !first.startsWith(CONSTRAIN) &&
      asChannel(first) === undefined
    ) {
      resolved = 'tool';
      name = first;
      words.shift();
      repairs.push({ kind: 'tool_role', detail: `unknown role '${first}' read as a tool named '${first}'` });
    } else {
      resolved = fallbackRole;
      repairs.push({ kind: 'missing_role', detail: `no role in the header; assumed '${fallbackRole}'` });
    }
  } else if (words[0] === resolved) {
    words.shift();
  }

  let recipient: string | null = null;
  let contentType: string | null = null;
  const bare: string[] = [];
  const dropped: string[] = [];
  for (const w of words) {
    const channelWord = asChannel(w.startsWith('to=') ? w.slice(3) : w);
    if (channelWord !== undefined) {
      // A channel name is never a recipient: a header that lost `<|channel|>` still names its channel.
      if (channel === null) {
        channel = channelWord;
        repairs.push({ kind: 'channel_without_marker', detail: `'${w}' read as the channel` });
      } else if (channelWord !== channel || w.startsWith('to=')) {
        others.push(channelWord);
        dropped.push(w);
      }
    } else if (w.startsWith('to=')) {
      // The name part only: `to=functions.noop>{}</assistant` addresses `functions.noop`.
      const name = /^[A-Za-z0-9_.-]*/.exec(w.slice(3))?.[0] ?? '';
      if (recipient === null && name !== '') recipient = name;
      else dropped.push(w);
    } else if (w.startsWith(CONSTRAIN)) {
      if (contentType === null) contentType = w;
      else dropped.push(w);
    } else {
      bare.push(w);
    }
  }
  if (bare.length > 0 && contentType === null && (recipient !== null || bare.length > 1))
    contentType = bare.pop() as string;
  // A bare word is a recipient only when it looks like one (`namespace.name`); `json`/`code` are content types.
  // …and only when it is the one word left: among free text (a header that swallowed its message) it is text.
  if (bare.length === 1 && recipient === null && NAMESPACED.test(bare[0] as string))
    recipient = bare.pop() as string;
  if (bare.length > 0 && contentType === null && CONTENT_TYPES.has(bare.at(-1) as string))
    contentType = bare.pop() as string;
  dropped.unshift(...bare);
  if (dropped.length > 0)
    repairs.push({ kind: 'dropped_header_words', detail: `dropped header words: ${dropped.join(' ')}` });
  if (repairs.length === 0)
    repairs.push({ kind: 'header_reordered', detail: `header '${text}' read leniently` });
  const header: ParsedHeader = { role: resolved, name, recipient, channel, content_type: contentType };
  normalizeChannel(header, repairs, others);
  return { header, repairs };
}

const NAMESPACED = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;
const CONTENT_TYPES: ReadonlySet<string> = new Set(['json', 'code', 'text']);

/** `final`, `commentary?`, `analysis.` → the known channel; anything else `undefined`. */
function asChannel(w: string): string | undefined {
  return KNOWN_CHANNELS.includes(w) ? w : knownChannelPrefix(w);
}

/** `assistantfinal` → role `assistant`, channel `final` (a header whose channel marker was dropped). */
function gluedRoleChannel(w: string): { role: Role; channel: string } | undefined {
  for (const role of ROLES) {
    if (!w.startsWith(role) || w.length === role.length) continue;
    const channel = asChannel(w.slice(role.length));
    if (channel !== undefined) return { role: role as Role, channel };
  }
  return undefined;
}

/**
 * Recipients the official parser accepts but no model means: a channel name (`analysis` where `<|channel|>` was
 * lost, `to=final`) names a channel, never a tool — it becomes the channel when there is none, else it is
 * dropped; a bare `json`/`code` is a content type; an empty `to=` is no recipient.
 */
function checkRecipient(
  header: ParsedHeader,
  text: string,
  repairs: { kind: string; detail: string }[],
): void {
  const r = header.recipient;
  if (r === null || header.role !== 'assistant') return;
  const ch = asChannel(r) ?? gluedRoleChannel(r)?.channel;
  if (ch !== undefined) {
    if (header.channel === null) {
      repairs.push({ kind: 'channel_without_marker', detail: `'${r}' read as the channel, not a recipient` });
      header.channel = ch;
    } else if (ch === 'analysis' && header.channel !== 'analysis') {
      // `final to=analysis`: the header names reasoning too, so it may be reasoning: never shown.
      repairs.push({
        kind: 'ambiguous_channel',
        detail: `'${header.channel}' header names '${r}'; read as analysis`,
      });
      header.channel = 'analysis';
    } else {
      repairs.push({ kind: 'channel_as_recipient', detail: `dropped recipient '${r}' (a channel name)` });
    }
    header.recipient = null;
  } else if (r === '') {
    repairs.push({ kind: 'empty_recipient', detail: "dropped an empty 'to='" });
    header.recipient = null;
  } else if (CONTENT_TYPES.has(r) && header.content_type === null && !text.includes(`to=${r}`)) {
    repairs.push({ kind: 'content_type_as_recipient', detail: `'${r}' is a content type, not a recipient` });
    header.content_type = r;
    header.recipient = null;
  }
}

function normalizeChannel(
  header: ParsedHeader,
  repairs: { kind: string; detail: string }[],
  others: readonly string[] = [],
): void {
  if (header.channel === null) return;
  const k = knownChannelPrefix(header.channel);
  if (k !== undefined) {
    repairs.push({ kind: 'channel_normalized', detail: `channel '${header.channel}' read as '${k}'` });
    header.channel = k;
  }
  // A header that also names `analysis` (`final<|channel|>analysis`) may be reasoning: never shown.
  const named = [header.content_type?.replace(CONSTRAIN, ''), ...others]
    .map((w) => (w ? asChannel(w) : undefined))
    .filter((c): c is string => c !== undefined && c !== header.channel);
  if (named.includes('analysis') && header.channel !== 'analysis') {
    repairs.push({
      kind: 'ambiguous_channel',
      detail: `header names channels '${header.channel}' and 'analysis'; read as analysis`,
    });
    header.channel = 'analysis';
    if (header.content_type !== null && asChannel(header.content_type.replace(CONSTRAIN, '')) !== undefined)
      header.content_type = null;
  }
}

/**
 * Salvage of a header that never reached `<|message|>` (the official non-strict rule, spec §4.4): the channel
 * is taken out, a leading role word dropped, and the rest is the message text. Unlike the official parser the
 * text keeps its own whitespace.
 */
export function salvageHeader(
  text: string,
  role: Role | null,
  fallbackRole: Role,
): { header: ParsedHeader; text: string } {
  let s = text;
  let channel: string | null = null;
  const at = s.indexOf(CHANNEL);
  if (at >= 0) {
    const after = s.slice(at + CHANNEL.length);
    const value = channelValue(after);
    if (value !== '') channel = value;
    // Before the marker only a role and a recipient belong; free text there (a message that lost its own
    // header, often reasoning) is not part of this message.
    const before = splitAscii(s.slice(0, at)).filter((w) => isRole(w) || w.startsWith('to='));
    s = `${before.join(' ')} ${after.slice(value.length)}`;
  }
  s = s.trim();
  let resolved = role;
  const firstWord = /^\S+/.exec(s)?.[0];
  if (resolved === null && isRole(firstWord)) {
    resolved = firstWord;
    s = s.slice(firstWord.length).trim();
  } else if (resolved !== null && firstWord === resolved) {
    s = s.slice(firstWord.length).trim();
  }
  const header: ParsedHeader = {
    role: resolved ?? fallbackRole,
    name: null,
    recipient: null,
    channel,
    content_type: null,
  };
  // A recipient glued to its arguments (`to=repo_browser.run_command{"command":"ls"}`): a call, not text.
  const call = /(?:^|\s)to=([A-Za-z0-9_.-]+)\s*(?:<\|constrain\|>\s*)?(?:json|code)?\s*(?=[[{])/.exec(s);
  if (call && header.role === 'assistant') {
    header.recipient = call[1] as string;
    header.content_type = '<|constrain|>json';
    s = s.slice(call.index + call[0].length);
  }
  // Special tokens never become text; a lone channel name is no message.
  s = s.replace(/<\|[a-z_0-9]+\|>/g, ' ').trim();
  if (header.recipient === null && !/\s/.test(s) && asChannel(s) !== undefined) s = '';
  return { header, text: s };
}
