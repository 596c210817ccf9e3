/**
 * The streaming Harmony parser. `strict: true` reproduces openai-harmony's `StreamableParser` (strict mode)
 * including its error messages; the default lenient mode never throws, accepts everything the official
 * non-strict parser accepts with the same result, and repairs the malformed outputs real models produce
 * (shared/spec/harmony.md §7), reporting each repair as an event.
 */
import { HarmonyParseError } from './errors.js';
import {
  HeaderError,
  leftoverMessage,
  type ParsedHeader,
  parseHeaderLenient,
  parseHeaderOfficial,
  salvageHeader,
} from './header.js';
import { parseFlattened } from './recover.js';
import { decodeBytes, tokenBytes, tokenText } from './tokenizer.js';
import { isStopToken, Tok } from './tokens.js';
import type { Message, Role } from './types.js';
import { Utf8StreamDecoder } from './utf8-stream.js';

export type ParserEvent =
  | { type: 'message_start' }
  | {
      type: 'header';
      role: Role;
      name: string | null;
      channel: string | null;
      recipient: string | null;
      content_type: string | null;
    }
  /** New text of the message in progress. The deltas of a message always add up to its final text. */
  | { type: 'content_delta'; delta: string }
  /** `stop_token`: the id that ended the message (`<|end|>`, `<|return|>`, `<|call|>`), `null` at end of stream. */
  | { type: 'message_done'; message: Message; stop_token?: number | null }
  /** Lenient mode only: what was malformed and how it was repaired. */
  | { type: 'repair'; kind: string; detail: string };

export interface ParserOptions {
  /** The role of the first message when the prompt ended with `<|start|>ROLE` (usually `assistant`). */
  role?: Role | null;
  /** `true`: the official parser's behaviour and errors. `false` (default): never throws, repairs and reports. */
  strict?: boolean;
}

const State = { ExpectStart: 0, Header: 1, Content: 2 } as const;
type State = (typeof State)[keyof typeof State];

const FFFD = '\uFFFD';
/** Text that may still become header words (` to=functions.x`): only spaces, then a prefix of `to=NAME`. */
const HEADERISH = /^[ \t]*(?:t|to|to=[A-Za-z0-9_.-]*)?$/;
const FFFD_BYTES = new Uint8Array([0xef, 0xbf, 0xbd]);
const lossy = new TextDecoder('utf-8');
const fatal = new TextDecoder('utf-8', { fatal: true });

export class StreamParser {
  readonly messages: Message[] = [];
  readonly strict: boolean;
  private state: State;
  private nextRole: Role | null;
  private readonly fallbackRole: Role;
  private startPending: boolean;
  private headerTokens: number[] = [];
  private header: ParsedHeader | null = null;
  private parts: string[] = [];
  private readonly utf8 = new Utf8StreamDecoder();
  /** Strict mode: an id outside the vocabulary arrived; the rest of the message becomes one U+FFFD. */
  private poisoned = false;
  private count = 0;
  private delta: string | null = null;
  /**
   * Lenient mode: text at the start of a message that may still turn out to be header words written after
   * `<|message|>` (` to=functions.x` then another `<|message|>`); released as soon as it cannot.
   */
  private held: string | null = null;
  /** Lenient mode: a special token arrived (the flattened form is recovered only when none did). */
  private sawSpecial = false;

  constructor(opts?: ParserOptions) {
    this.strict = opts?.strict ?? false;
    this.nextRole = opts?.role ?? null;
    this.fallbackRole = opts?.role ?? 'assistant';
    this.state = this.nextRole === null ? State.ExpectStart : State.Header;
    this.startPending = this.nextRole !== null;
  }

  /** Tokens fed so far. */
  get tokenCount(): number {
    return this.count;
  }
  /** The text delta produced by the last token (official `last_content_delta`), `null` if none. */
  get lastContentDelta(): string | null {
    return this.delta;
  }
  /** Text of the message in progress (bytes still waiting for the rest of a character excluded). */
  get currentContent(): string {
    return this.state === State.Content ? this.parts.join('') : '';
  }
  get currentRole(): Role | null {
    return this.state === State.Content ? (this.header?.role ?? null) : this.nextRole;
  }
  /** Channel, recipient and content type are known once the header is complete (`<|message|>` arrived). */
  get currentChannel(): string | null {
    return this.state === State.Content ? (this.header?.channel ?? null) : null;
  }
  get currentRecipient(): string | null {
    return this.state === State.Content ? (this.header?.recipient ?? null) : null;
  }
  get currentContentType(): string | null {
    return this.state === State.Content ? (this.header?.content_type ?? null) : null;
  }
  /** `'expect_start' | 'header' | 'content'`. */
  get stateName(): 'expect_start' | 'header' | 'content' {
    return this.state === State.ExpectStart
      ? 'expect_start'
      : this.state === State.Header
        ? 'header'
        : 'content';
  }

  /** Feeds one token; returns the events it produced. */
  push(token: number): ParserEvent[] {
    const index = this.count++;
    if (token >= Tok.startoftext && !this.strict) this.sawSpecial = true;
    if (this.state === State.Content) {
      // Hot path: an ordinary token that is complete UTF-8 on its own.
      if (
        !isStopToken(token) &&
        !this.poisoned &&
        this.held === null &&
        this.utf8.pending === 0 &&
        token < Tok.startoftext &&
        token >= 0
      ) {
        const s = tokenText(token);
        if (s !== undefined) {
          this.parts.push(s);
          this.delta = s;
          return [{ type: 'content_delta', delta: s }];
        }
      }
      const ev: ParserEvent[] = [];
      this.content(token, ev);
      return ev;
    }
    const ev: ParserEvent[] = [];
    if (this.startPending) {
      this.startPending = false;
      ev.push({ type: 'message_start' });
    }
    if (this.state === State.Header) this.headerToken(token, index, ev);
    else this.expectStart(token, index, ev);
    return ev;
  }

  /** End of stream: finishes a message in progress. */
  end(): ParserEvent[] {
    const ev: ParserEvent[] = [];
    if (this.state === State.Content) {
      this.finish(null, ev);
    } else if (this.state === State.Header) {
      if (this.strict)
        throw new HarmonyParseError(
          'Unexpected EOS while waiting for message header to complete',
          this.count,
        );
      if (this.headerTokens.length > 0 && !this.flattened(ev)) {
        this.salvage(ev, 'truncated_header', 'the stream ended inside a message header');
      }
      this.reset();
    }
    this.delta = null;
    return ev;
  }

  // ---- states ----

  private expectStart(token: number, index: number, ev: ParserEvent[]): void {
    if (token === Tok.start) {
      this.state = State.Header;
      this.headerTokens = [];
      ev.push({ type: 'message_start' });
      return;
    }
    if (this.strict) {
      throw new HarmonyParseError(
        `Unexpected token ${token} while expecting start token ${Tok.start}`,
        index,
      );
    }
    if (isStopToken(token) || token === Tok.endoftext) {
      repair(ev, 'stray_stop_token', `dropped stop token ${token} that followed a finished message`);
      return;
    }
    ev.push({ type: 'message_start' });
    if (token === Tok.message) {
      repair(ev, 'missing_header', `message without <|start|> and header; assumed '${this.fallbackRole}'`);
      this.enterContent(
        { role: this.fallbackRole, name: null, recipient: null, channel: null, content_type: null },
        ev,
      );
      return;
    }
    repair(
      ev,
      'missing_start',
      `token ${token} where <|start|> was expected; read as a new '${this.fallbackRole}' message`,
    );
    this.state = State.Header;
    this.nextRole = this.fallbackRole;
    this.headerTokens = [token];
  }

  private headerToken(token: number, index: number, ev: ParserEvent[]): void {
    if (token === Tok.message) {
      const header = this.parseHeader(index, ev);
      this.nextRole = null;
      this.enterContent(header, ev);
      return;
    }
    if (!this.strict) {
      if (isStopToken(token) || token === Tok.endoftext) {
        if (this.headerTokens.length > 0)
          this.salvage(ev, 'missing_message', 'message ended before <|message|>');
        else repair(ev, 'empty_message', `stop token ${token} right after <|start|>; nothing to keep`);
        this.reset();
        return;
      }
      if (token === Tok.start) {
        if (this.headerTokens.length > 0) {
          this.salvage(ev, 'missing_message', '<|start|> inside a message header');
          ev.push({ type: 'message_start' });
        } else {
          repair(ev, 'duplicate_start', 'ignored a repeated <|start|>');
        }
        this.state = State.Header;
        this.nextRole = null;
        this.headerTokens = [];
        return;
      }
    }
    this.headerTokens.push(token);
  }

  private content(token: number, ev: ParserEvent[]): void {
    if (isStopToken(token)) {
      this.finish(token, ev);
      return;
    }
    if (this.poisoned) {
      this.delta = null;
      return;
    }
    if (!this.strict) {
      if (token === Tok.start || token === Tok.channel || token === Tok.endoftext) {
        const role = this.header?.role ?? this.fallbackRole;
        repair(ev, 'missing_end', `token ${token} inside message content; the message was ended there`);
        this.finish(null, ev);
        if (token === Tok.endoftext) return;
        this.state = State.Header;
        this.nextRole = token === Tok.channel ? role : null;
        this.headerTokens = token === Tok.channel ? [token] : [];
        ev.push({ type: 'message_start' });
        return;
      }
    }
    if (!this.strict && token >= Tok.startoftext && tokenBytes(token) !== undefined) {
      this.specialInContent(token, ev);
      return;
    }
    const bytes = tokenBytes(token);
    if (bytes === undefined) {
      if (this.strict) {
        this.poisoned = true;
        this.delta = null;
        return;
      }
      repair(ev, 'invalid_token', `token ${token} is not in the vocabulary; replaced by U+FFFD`);
      this.emit(this.utf8.flush() + FFFD, ev);
      return;
    }
    this.emit(this.utf8.push(bytes), ev);
  }

  // ---- helpers ----

  private emit(text: string, ev: ParserEvent[]): void {
    let s = text;
    if (this.held !== null && s !== '') {
      this.held += s;
      if (HEADERISH.test(this.held)) s = '';
      else {
        s = this.held;
        this.held = null;
      }
    }
    if (s === '') {
      this.delta = null;
      return;
    }
    this.parts.push(s);
    this.delta = s;
    ev.push({ type: 'content_delta', delta: s });
  }

  private parseHeader(index: number, ev: ParserEvent[]): ParsedHeader {
    if (this.strict) {
      let text: string;
      try {
        text = fatal.decode(decodeBytes(this.headerTokens));
      } catch {
        throw new HarmonyParseError('could not decode header', index);
      }
      try {
        const { header, leftover } = parseHeaderOfficial(text, this.nextRole, true);
        if (leftover.length > 0) throw new HeaderError(leftoverMessage(leftover));
        return header;
      } catch (e) {
        throw new HarmonyParseError(e instanceof Error ? e.message : String(e), index);
      }
    }
    const text = this.headerText();
    const { header, repairs } = parseHeaderLenient(text, this.nextRole, this.fallbackRole);
    for (const r of repairs) repair(ev, r.kind, r.detail);
    if (header.recipient !== null && header.role === 'assistant' && header.channel === 'analysis') {
      repair(
        ev,
        'call_on_analysis',
        `tool call to '${header.recipient}' on the analysis channel; kept as a call`,
      );
    }
    return header;
  }

  /** Lossy header text; ids outside the vocabulary become U+FFFD. */
  private headerText(): string {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (const id of this.headerTokens) {
      const b = tokenBytes(id) ?? FFFD_BYTES;
      chunks.push(b);
      total += b.length;
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    return lossy.decode(bytes);
  }

  private enterContent(header: ParsedHeader, ev: ParserEvent[]): void {
    this.header = header;
    this.state = State.Content;
    this.headerTokens = [];
    this.parts = [];
    this.utf8.reset();
    this.poisoned = false;
    this.delta = null;
    this.held = !this.strict && header.recipient === null ? '' : null;
    ev.push({ type: 'header', ...header });
  }

  /**
   * Lenient mode: a special token inside message content is never text. `<|message|>` after header words (` to=x`)
   * makes them this message's header; any other is dropped.
   */
  private specialInContent(token: number, ev: ParserEvent[]): void {
    const header = this.header as ParsedHeader;
    const words = this.held;
    if (token === Tok.message && words !== null && words.trim() !== '') {
      const to = /to=([A-Za-z0-9_.-]+)/.exec(words)?.[1];
      this.held = '';
      if (to !== undefined && header.role === 'assistant') {
        header.recipient = to;
        repair(
          ev,
          'header_in_content',
          `header words '${words.trim()}' after <|message|>; addressed to '${to}'`,
        );
        ev.push({ type: 'header', ...header });
        this.held = null;
        return;
      }
      repair(ev, 'header_in_content', `dropped header words '${words.trim()}' written after <|message|>`);
      return;
    }
    repair(ev, 'special_in_content', `dropped ${tokenText(token) ?? token} inside message content`);
    this.delta = null;
  }

  private finish(stop: number | null, ev: ParserEvent[]): void {
    const header = this.header as ParsedHeader;
    const tail = (this.held ?? '') + (this.poisoned ? FFFD : '') + this.utf8.flush();
    this.held = null;
    if (tail !== '') {
      this.parts.push(tail);
      ev.push({ type: 'content_delta', delta: tail });
    }
    const message = toMessage(header, this.parts.join(''));
    this.messages.push(message);
    ev.push({ type: 'message_done', message, stop_token: stop });
    this.reset();
  }

  /**
   * The whole output arrived without a single special token (a server stripped them) and reads as flattened
   * Harmony (`analysisThe user asks…assistantfinalfour`): its messages are recovered. Returns whether it did.
   */
  private flattened(ev: ParserEvent[]): boolean {
    if (this.sawSpecial || this.messages.length > 0) return false;
    const messages = parseFlattened(this.headerText());
    if (!messages) return false;
    repair(
      ev,
      'flattened',
      `output without special tokens split into ${messages.length} message(s) by channel name`,
    );
    for (const message of messages) {
      ev.push({ type: 'message_start' });
      ev.push({
        type: 'header',
        role: message.role,
        name: null,
        recipient: message.recipient ?? null,
        channel: message.channel ?? null,
        content_type: message.content_type ?? null,
      });
      const text = messageText(message);
      if (text) ev.push({ type: 'content_delta', delta: text });
      const m = toMessage(
        {
          role: message.role,
          name: null,
          recipient: message.recipient ?? null,
          channel: message.channel ?? null,
          content_type: message.content_type ?? null,
        },
        text,
      );
      this.messages.push(m);
      ev.push({ type: 'message_done', message: m, stop_token: null });
    }
    return true;
  }

  private salvage(ev: ParserEvent[], kind: string, why: string): void {
    const { header, text } = salvageHeader(this.headerText(), this.nextRole, this.fallbackRole);
    if (text === '') {
      repair(ev, kind, `${why}; the header held no text and was dropped`);
      return;
    }
    repair(ev, kind, `${why}; its header text was kept as the message content`);
    ev.push({ type: 'header', ...header });
    ev.push({ type: 'content_delta', delta: text });
    const message = toMessage(header, text);
    this.messages.push(message);
    ev.push({ type: 'message_done', message, stop_token: null });
  }

  private reset(): void {
    this.held = null;
    this.state = State.ExpectStart;
    this.nextRole = null;
    this.header = null;
    this.headerTokens = [];
    this.parts = [];
    this.utf8.reset();
    this.poisoned = false;
    this.delta = null;
  }
}

function repair(ev: ParserEvent[], kind: string, detail: string): void {
  ev.push({ type: 'repair', kind, detail });
}

const messageText = (m: Message): string => m.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

function toMessage(h: ParsedHeader, text: string): Message {
  return {
    role: h.role,
    name: h.name,
    recipient: h.recipient,
    channel: h.channel,
    content_type: h.content_type,
    content: [{ type: 'text', text }],
  };
}

/** Feeds all tokens, then ends the stream; returns the parsed messages. */
export function parseMessagesFromCompletionTokens(
  tokens: readonly number[],
  opts?: ParserOptions,
): Message[] {
  const p = new StreamParser(opts);
  for (const t of tokens) p.push(t);
  p.end();
  return p.messages;
}
