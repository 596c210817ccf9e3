/**
 * The adapter that makes a token backend look like a message backend: sampled ids go through the streaming
 * Harmony parser and come out as the chunks a message backend yields (text deltas by channel, then the parsed
 * messages), plus the tool-call headers and parser repairs only a token stream can tell. Everything downstream
 * (the monitor, the output gate, the preamble and answer events) consumes this one shape.
 */
import type { FinishReason, MessageChunk, MessageResult, TokenChunk, TokenUsage } from '../backend/types.js';
import { type ParserEvent, StreamParser, Tok } from '../harmony/api.js';
import type { Message } from '../harmony/types.js';
import { type RecipientCheck, visibleAs } from './leak-guard.js';

/** What the model-call module reads: a message backend's chunks, plus two only a parser can produce. */
export type ModelChunk =
  | MessageChunk
  /** A tool call's header arrived (its arguments are never text deltas). */
  | { type: 'call'; recipient: string; channel: string | null }
  /** The output was malformed Harmony and the lenient parser repaired it. */
  | { type: 'repair'; kind: string; detail: string };

/** A model call's chunks. */
export interface ChunkStream extends AsyncIterable<ModelChunk> {
  /**
   * For a call stopped before its end (its signal aborted): the messages and usage it produced. A message
   * backend's result is read to its end when the backend still delivers it; a token stream keeps what was parsed.
   */
  settle(): Promise<{ messages: Message[]; usage: TokenUsage }>;
}

type Channel = 'analysis' | 'commentary' | 'final';

/** Token chunks → model chunks. Deltas of one backend chunk are merged per channel (fewer hops, same text). */
export class TokenChunkStream implements ChunkStream {
  private readonly parser = new StreamParser({ role: 'assistant' });
  private channel: Channel | null = null;
  private completionTokens = 0;
  /** `<|return|>` or `<|endoftext|>` arrived: the output is over. */
  private over = false;
  private cut = false;
  private finishReason: FinishReason = 'stop';
  private usage: TokenUsage;

  constructor(
    private readonly source: AsyncIterable<TokenChunk>,
    private readonly opts: { promptTokens: number; prefill?: readonly number[]; isTool: RecipientCheck },
  ) {
    this.usage = { promptTokens: opts.promptTokens, completionTokens: 0 };
    // A prefill (e.g. `<|channel|>final<|message|>`) is part of the prompt: it only sets the parser's state.
    for (const t of opts.prefill ?? []) for (const ev of this.parser.push(t)) this.read(ev, []);
  }

  async settle(): Promise<{ messages: Message[]; usage: TokenUsage }> {
    return {
      messages: [...this.parser.messages],
      usage: {
        ...this.usage,
        completionTokens: Math.max(this.usage.completionTokens, this.completionTokens),
      },
    };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ModelChunk> {
    const out: ModelChunk[] = [];
    for await (const chunk of this.source) {
      if (chunk.type === 'finish') {
        this.finishReason = chunk.finishReason;
        this.usage = chunk.usage;
        continue;
      }
      this.completionTokens += chunk.tokens.length;
      for (const tok of chunk.tokens) {
        if (this.over) break;
        for (const ev of this.parser.push(tok)) this.read(ev, out);
        // A server honouring the stop tokens ends the output here: anything after it was never the model's answer.
        if (tok === Tok.return || tok === Tok.endoftext) this.over = true;
      }
      if (this.over && !this.cut) {
        this.cut = true;
        out.push({
          type: 'repair',
          kind: 'after_stop',
          detail: 'ignored output after <|return|> or <|endoftext|>',
        });
      }
      if (out.length) {
        yield* out;
        out.length = 0;
      }
    }
    for (const ev of this.parser.end()) this.read(ev, out);
    yield* out;
    const result: MessageResult = {
      messages: this.parser.messages,
      finishReason: this.finishReason,
      usage: this.usage,
    };
    yield { type: 'done', result };
  }

  private read(ev: ParserEvent, out: ModelChunk[]): void {
    switch (ev.type) {
      case 'header': {
        const as =
          ev.role === 'assistant' ? visibleAs(ev.channel, ev.recipient, this.opts.isTool) : 'analysis';
        this.channel = as === 'call' ? null : as;
        if (as === 'call') out.push({ type: 'call', recipient: ev.recipient as string, channel: ev.channel });
        return;
      }
      case 'content_delta': {
        if (this.channel === null) return;
        const last = out.at(-1);
        if (last?.type === 'delta' && last.channel === this.channel) last.delta += ev.delta;
        else out.push({ type: 'delta', channel: this.channel, delta: ev.delta });
        return;
      }
      case 'repair':
        out.push({ type: 'repair', kind: ev.kind, detail: ev.detail });
        return;
      default:
        return;
    }
  }
}

/** A message backend's chunks, recording the text so far for `settle()`. */
export class MessageChunkStream implements ChunkStream {
  private readonly seen: Message[] = [];
  private readonly it: AsyncIterator<MessageChunk>;
  private result: MessageResult | undefined;

  constructor(source: AsyncIterable<MessageChunk>) {
    this.it = source[Symbol.asyncIterator]();
  }

  async settle(): Promise<{ messages: Message[]; usage: TokenUsage }> {
    try {
      while (!this.result) {
        const step = await this.it.next();
        if (step.done) break;
        this.take(step.value);
      }
    } catch {
      // The backend gave up on the aborted request: keep what arrived.
    }
    if (this.result) return { messages: this.result.messages, usage: this.result.usage };
    return { messages: this.seen.map((m) => ({ ...m })), usage: { promptTokens: 0, completionTokens: 0 } };
  }

  private take(chunk: MessageChunk): void {
    if (chunk.type === 'done') {
      this.result = chunk.result;
      return;
    }
    const last = this.seen.at(-1);
    const part = last?.content[0];
    if (last?.channel === chunk.channel && part?.type === 'text') part.text += chunk.delta;
    else
      this.seen.push({
        role: 'assistant',
        channel: chunk.channel,
        content: [{ type: 'text', text: chunk.delta }],
      });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ModelChunk> {
    try {
      while (!this.result) {
        const step = await this.it.next();
        if (step.done) break;
        this.take(step.value);
        yield step.value;
      }
    } finally {
      // Also when the caller stopped early: the backend's stream is closed (its request ends).
      await this.it.return?.()?.catch(() => undefined);
    }
    if (this.result) return;
    // The stream ended without a result: nothing usable arrived.
    yield {
      type: 'done',
      result: { messages: [], finishReason: 'error', usage: { promptTokens: 0, completionTokens: 0 } },
    };
  }
}
