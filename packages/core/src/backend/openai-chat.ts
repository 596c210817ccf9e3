import type OpenAI from 'openai';
import type { Message } from '../harmony/types.js';
import { finishOf } from './completions.js';
import { BackendError } from './errors.js';
import {
  assistantCall,
  assistantText,
  developerInstructions,
  groupHistory,
  sanitizeContent,
} from './messages.js';
import { openaiClient, viaOpenAI } from './openai-client.js';
import { PreambleHold } from './preamble-hold.js';
import { type CapabilityProfile, guessProfile } from './profiles.js';
import type { RetryOptions } from './retry.js';
import { flattenTools, ToolNameMap } from './tool-names.js';
import type { MessageBackend, MessageChunk, MessageRequest, MessageResult, TokenUsage } from './types.js';

export interface ChatCompletionsOptions {
  /** e.g. `http://127.0.0.1:8000/v1` */
  baseURL: string;
  model: string;
  apiKey?: string | undefined;
  /** Defaults to a guess from the URL (see `guessProfile`). */
  profile?: CapabilityProfile;
  /** A ready client (tests, custom fetch); otherwise one is built (retries come from `retry`). */
  client?: OpenAI;
  retry?: RetryOptions;
}

type WireMessage = Record<string, unknown>;
interface WireToolCall {
  id?: string;
  index?: number;
  function?: { name?: string; arguments?: string };
}
interface WireChoiceMessage {
  content?: string | null;
  reasoning?: string | null;
  reasoning_content?: string | null;
  thinking?: string | null;
  /** OpenRouter's structured reasoning blocks. */
  reasoning_details?: { type?: string; text?: string; summary?: string }[] | null;
  tool_calls?: WireToolCall[] | null;
}

/** Reads reasoning from whichever field the server used (`reasoning`, `reasoning_content`, `thinking`, details). */
const reasoningOf = (m: WireChoiceMessage | undefined): string =>
  m?.reasoning ??
  m?.reasoning_content ??
  m?.thinking ??
  (m?.reasoning_details ?? []).map((d) => d.text ?? d.summary ?? '').join('');

/**
 * OpenAI Chat Completions through the `openai` package, for servers that apply Harmony themselves (vLLM,
 * Ollama `/v1`, OpenRouter, Groq, LM Studio). Reasoning is replayed on assistant turns that carry tool calls,
 * in the field the capability profile names.
 */
export class ChatCompletionsBackend implements MessageBackend {
  readonly kind = 'messages' as const;
  readonly id: string;
  readonly profile: CapabilityProfile;
  private readonly client: OpenAI;

  constructor(private readonly opts: ChatCompletionsOptions) {
    this.profile = opts.profile ?? guessProfile(opts.baseURL);
    this.id = `chat:${this.profile.name}:${opts.baseURL} ${opts.model}`;
    this.client = openaiClient(opts);
  }

  /** The request body, exposed for tests and `doctor`. */
  buildBody(r: MessageRequest, names: ToolNameMap): Record<string, unknown> {
    const messages: WireMessage[] = [];
    const instructions = developerInstructions(r.messages);
    if (instructions) messages.push({ role: 'system', content: instructions });
    for (const item of groupHistory(r.messages)) {
      if (item.kind === 'user') messages.push({ role: 'user', content: item.text });
      else if (item.kind === 'tool')
        messages.push({ role: 'tool', tool_call_id: item.callId, content: item.text });
      else if (item.calls.length) {
        const m: WireMessage = {
          role: 'assistant',
          content: item.preamble || null,
          tool_calls: item.calls.map((c) => {
            const w = names.toWire(c.recipient, c.text);
            return { id: c.id, type: 'function', function: { name: w.name, arguments: w.args } };
          }),
        };
        if (item.reasoning && this.profile.replayReasoningAs)
          m[this.profile.replayReasoningAs] = item.reasoning;
        if (item.reasoning && this.profile.replayReasoningDetails) {
          m.reasoning_details = [
            { type: 'reasoning.text', text: item.reasoning, format: 'unknown', index: 0 },
          ];
        }
        messages.push(m);
      } else messages.push({ role: 'assistant', content: item.final || item.preamble });
    }
    const body: Record<string, unknown> = { model: this.opts.model, messages };
    if (names.tools.length) {
      body.tools = names.tools.map((t) => ({
        type: 'function',
        function: { name: t.name, description: t.description, parameters: t.parameters },
      }));
    }
    if (this.profile.effortAs === 'reasoning_effort') body.reasoning_effort = r.effort;
    else body.reasoning = { effort: r.effort };
    if (r.maxTokens !== undefined) body.max_tokens = r.maxTokens;
    if (r.temperature !== undefined) body.temperature = r.temperature;
    if (r.topP !== undefined) body.top_p = r.topP;
    if (r.seed !== undefined) body.seed = r.seed;
    return body;
  }

  private toMessages(m: WireChoiceMessage, names: ToolNameMap): Message[] {
    const out: Message[] = [];
    const reasoning = reasoningOf(m);
    if (reasoning) out.push(assistantText('analysis', reasoning));
    const calls = m.tool_calls ?? [];
    if (m.content) out.push(...sanitizeContent(m.content, calls.length ? 'commentary' : 'final'));
    for (const c of calls) {
      const h = names.fromWire(c.function?.name ?? '', c.function?.arguments ?? '');
      out.push(assistantCall(h.recipient, h.text));
    }
    return out;
  }

  private async call(body: Record<string, unknown>, signal: AbortSignal | undefined): Promise<unknown> {
    return viaOpenAI(
      this.id,
      () =>
        this.client.chat.completions.create(body as unknown as OpenAI.Chat.ChatCompletionCreateParams, {
          signal,
        }),
      { retry: this.opts.retry, signal },
    );
  }

  async generate(r: MessageRequest): Promise<MessageResult> {
    const names = new ToolNameMap(flattenTools(r.tools));
    const res = (await this.call(this.buildBody(r, names), r.signal)) as {
      choices?: { message?: WireChoiceMessage; finish_reason?: string }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    };
    const choice = res.choices?.[0];
    if (!choice?.message) throw new BackendError(`${this.id}: answer has no choices`);
    return {
      messages: this.toMessages(choice.message, names),
      finishReason: finishOf(choice.finish_reason),
      usage: {
        promptTokens: res.usage?.prompt_tokens ?? 0,
        completionTokens: res.usage?.completion_tokens ?? 0,
      },
    };
  }

  async *stream(r: MessageRequest): AsyncIterable<MessageChunk> {
    const names = new ToolNameMap(flattenTools(r.tools));
    const body = { ...this.buildBody(r, names), stream: true, stream_options: { include_usage: true } };
    const stream = (await this.call(body, r.signal)) as AsyncIterable<{
      choices?: { delta?: WireChoiceMessage; finish_reason?: string | null }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
    }>;
    // Gather everything from raw chunks: the SDK's accumulator keeps only the last delta of unknown fields.
    const acc: WireChoiceMessage = { content: '', reasoning: '', tool_calls: [] };
    const calls = acc.tool_calls as WireToolCall[];
    let finish: string | null | undefined;
    let usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    const hold = new PreambleHold();
    for await (const chunk of stream) {
      const c = chunk.choices?.[0];
      if (chunk.usage) {
        usage = {
          promptTokens: chunk.usage.prompt_tokens ?? 0,
          completionTokens: chunk.usage.completion_tokens ?? 0,
        };
      }
      if (!c) continue;
      const d = c.delta;
      const rd = d ? reasoningOf(d) : '';
      if (rd) {
        acc.reasoning += rd;
        yield { type: 'delta', channel: 'analysis', delta: rd };
      }
      if (d?.tool_calls?.length) yield* hold.toolCall();
      if (d?.content) {
        acc.content += d.content;
        yield* hold.text(d.content);
      }
      if (c.finish_reason) {
        finish = c.finish_reason;
        yield* hold.end(calls.length > 0 || (d?.tool_calls?.length ?? 0) > 0);
      }
      for (const tc of d?.tool_calls ?? []) {
        const i = tc.index ?? calls.length;
        if (!calls[i]) calls[i] = { id: tc.id, function: { name: '', arguments: '' } };
        const slot = calls[i]!;
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.function!.name += tc.function.name;
        if (tc.function?.arguments) slot.function!.arguments += tc.function.arguments;
      }
    }
    if (r.signal?.aborted) finish = 'abort';
    // A stream that ended without a finish reason: what was held is whatever the calls say it is.
    else yield* hold.end(calls.length > 0);
    yield {
      type: 'done',
      result: { messages: this.toMessages(acc, names), finishReason: finishOf(finish), usage },
    };
  }
}
