import type { Message } from '../harmony/types.js';
import { BackendError } from './errors.js';
import { authHeaders, joinUrl, lines, postJson } from './http.js';
import {
  assistantCall,
  assistantText,
  developerInstructions,
  groupHistory,
  sanitizeContent,
} from './messages.js';
import { ollamaNumCtx } from './ollama-generate.js';
import { PreambleHold } from './preamble-hold.js';
import type { RetryOptions } from './retry.js';
import { flattenTools, ToolNameMap } from './tool-names.js';
import type {
  FinishReason,
  MessageBackend,
  MessageChunk,
  MessageRequest,
  MessageResult,
  TokenUsage,
} from './types.js';

export interface OllamaChatOptions {
  /** e.g. `http://127.0.0.1:11434` */
  baseURL?: string;
  model: string;
  /** Sent as a Bearer token (Ollama behind an authenticating proxy). */
  apiKey?: string | undefined;
  /** Fixed context size; default: sized from the conversation (see `ollamaNumCtx`). */
  numCtx?: number;
  retry?: RetryOptions;
}

interface OllamaMessage {
  role?: string;
  content?: string;
  thinking?: string;
  tool_calls?: { function?: { name?: string; arguments?: unknown } }[];
}
interface OllamaLine {
  message?: OllamaMessage;
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

const argsText = (a: unknown): string => (typeof a === 'string' ? a : JSON.stringify(a ?? {}));
const argsObject = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return {};
  }
};

/**
 * Ollama's native `/api/chat`: effort as `think: 'low'|'medium'|'high'` (gpt-oss ignores booleans), reasoning
 * read from and replayed in `message.thinking` on tool-call turns (Ollama's tool-calling guidance), tool
 * arguments as JSON objects, NDJSON streaming.
 */
export class OllamaChatBackend implements MessageBackend {
  readonly kind = 'messages' as const;
  readonly id: string;
  private readonly url: string;

  constructor(private readonly opts: OllamaChatOptions) {
    const base = opts.baseURL ?? 'http://127.0.0.1:11434';
    this.url = joinUrl(base, '/api/chat');
    this.id = `ollama-chat:${base} ${opts.model}`;
  }

  buildBody(r: MessageRequest, names: ToolNameMap, stream: boolean): Record<string, unknown> {
    const messages: Record<string, unknown>[] = [];
    const instructions = developerInstructions(r.messages);
    if (instructions) messages.push({ role: 'system', content: instructions });
    for (const item of groupHistory(r.messages)) {
      if (item.kind === 'user') messages.push({ role: 'user', content: item.text });
      else if (item.kind === 'tool') {
        messages.push({ role: 'tool', content: item.text, tool_name: names.toWire(item.recipient, '').name });
      } else if (item.calls.length) {
        messages.push({
          role: 'assistant',
          content: item.preamble,
          ...(item.reasoning ? { thinking: item.reasoning } : {}),
          tool_calls: item.calls.map((c) => {
            const w = names.toWire(c.recipient, c.text);
            return { function: { name: w.name, arguments: argsObject(w.args) } };
          }),
        });
      } else messages.push({ role: 'assistant', content: item.final || item.preamble });
    }
    // A token count estimate (about 3 characters a token for English and JSON) sizes `num_ctx`.
    const chars = JSON.stringify(messages).length + JSON.stringify(names.tools).length;
    const options: Record<string, unknown> = {
      num_ctx: this.opts.numCtx ?? ollamaNumCtx(Math.ceil(chars / 3) + 200, r.maxTokens),
    };
    if (r.temperature !== undefined) options.temperature = r.temperature;
    if (r.topP !== undefined) options.top_p = r.topP;
    if (r.maxTokens !== undefined) options.num_predict = r.maxTokens;
    if (r.seed !== undefined) options.seed = r.seed;
    const body: Record<string, unknown> = {
      model: this.opts.model,
      messages,
      think: r.effort,
      stream,
      options,
    };
    if (names.tools.length) {
      body.tools = names.tools.map((t) => ({
        type: 'function',
        function: { name: t.name, description: t.description, parameters: t.parameters },
      }));
    }
    return body;
  }

  private post(r: MessageRequest, names: ToolNameMap, stream: boolean): Promise<Response> {
    return postJson(this.url, this.buildBody(r, names, stream), {
      headers: authHeaders(this.opts.apiKey),
      signal: r.signal,
      what: this.id,
      retry: this.opts.retry,
    });
  }

  private toMessages(m: OllamaMessage, names: ToolNameMap): Message[] {
    const out: Message[] = [];
    if (m.thinking) out.push(assistantText('analysis', m.thinking));
    const calls = m.tool_calls ?? [];
    if (m.content) out.push(...sanitizeContent(m.content, calls.length ? 'commentary' : 'final'));
    for (const c of calls) {
      const h = names.fromWire(c.function?.name ?? '', argsText(c.function?.arguments));
      out.push(assistantCall(h.recipient, h.text));
    }
    return out;
  }

  private static finish(line: OllamaLine): FinishReason {
    return line.done_reason === 'length' ? 'length' : 'stop';
  }
  private static usage(line: OllamaLine): TokenUsage {
    return { promptTokens: line.prompt_eval_count ?? 0, completionTokens: line.eval_count ?? 0 };
  }

  async generate(r: MessageRequest): Promise<MessageResult> {
    const names = new ToolNameMap(flattenTools(r.tools));
    const res = await this.post(r, names, false);
    const line = (await res.json()) as OllamaLine;
    if (line.error) throw new BackendError(`${this.id}: ${line.error}`);
    return {
      messages: this.toMessages(line.message ?? {}, names),
      finishReason: OllamaChatBackend.finish(line),
      usage: OllamaChatBackend.usage(line),
    };
  }

  async *stream(r: MessageRequest): AsyncIterable<MessageChunk> {
    const names = new ToolNameMap(flattenTools(r.tools));
    const res = await this.post(r, names, true);
    const acc: Required<Pick<OllamaMessage, 'content' | 'thinking' | 'tool_calls'>> = {
      content: '',
      thinking: '',
      tool_calls: [],
    };
    let last: OllamaLine = {};
    const hold = new PreambleHold();
    try {
      for await (const raw of lines(res)) {
        if (!raw.trim()) continue;
        const line = JSON.parse(raw) as OllamaLine;
        if (line.error) throw new BackendError(`${this.id}: ${line.error}`);
        const m = line.message;
        if (m?.thinking) {
          acc.thinking += m.thinking;
          yield { type: 'delta', channel: 'analysis', delta: m.thinking };
        }
        if (m?.tool_calls?.length) yield* hold.toolCall();
        if (m?.content) {
          acc.content += m.content;
          yield* hold.text(m.content);
        }
        if (m?.tool_calls) acc.tool_calls.push(...m.tool_calls);
        if (line.done) {
          last = line;
          yield* hold.end(acc.tool_calls.length > 0);
        }
      }
    } catch (err) {
      if (!r.signal?.aborted) throw err;
    }
    if (!r.signal?.aborted) yield* hold.end(acc.tool_calls.length > 0);
    yield {
      type: 'done',
      result: {
        messages: this.toMessages(acc, names),
        finishReason: r.signal?.aborted ? 'abort' : OllamaChatBackend.finish(last),
        usage: OllamaChatBackend.usage(last),
      },
    };
  }
}
