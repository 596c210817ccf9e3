import type OpenAI from 'openai';
import type { Message } from '../harmony/types.js';
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
import type { RetryOptions } from './retry.js';
import { flattenTools, ToolNameMap } from './tool-names.js';
import type { FinishReason, MessageBackend, MessageChunk, MessageRequest, MessageResult } from './types.js';

export interface ResponsesOptions {
  baseURL: string;
  model: string;
  apiKey?: string | undefined;
  client?: OpenAI;
  retry?: RetryOptions;
}

interface OutputItem {
  type: string;
  content?: { type: string; text?: string }[];
  summary?: { text?: string }[];
  name?: string;
  arguments?: string;
}
interface ResponseBody {
  status?: string;
  output?: OutputItem[];
  incomplete_details?: { reason?: string } | null;
  usage?: { input_tokens?: number; output_tokens?: number } | null;
}

/**
 * The Responses API through the `openai` package. Stateless on purpose: the full history is sent every call
 * (`store: false`, no `previous_response_id`), because servers have dropped function calls from stored
 * context (frameworks.md §2 F24). Reasoning before tool calls goes back as `reasoning` items.
 */
export class ResponsesBackend implements MessageBackend {
  readonly kind = 'messages' as const;
  readonly id: string;
  private readonly client: OpenAI;

  constructor(private readonly opts: ResponsesOptions) {
    this.id = `responses:${opts.baseURL} ${opts.model}`;
    this.client = openaiClient(opts);
  }

  buildBody(r: MessageRequest, names: ToolNameMap): Record<string, unknown> {
    const input: Record<string, unknown>[] = [];
    let n = 0;
    for (const item of groupHistory(r.messages)) {
      if (item.kind === 'user') input.push({ type: 'message', role: 'user', content: item.text });
      else if (item.kind === 'tool') {
        input.push({ type: 'function_call_output', call_id: item.callId, output: item.text });
      } else if (item.calls.length) {
        if (item.reasoning) {
          input.push({
            type: 'reasoning',
            id: `rs_${++n}`,
            summary: [],
            content: [{ type: 'reasoning_text', text: item.reasoning }],
          });
        }
        for (const c of item.calls) {
          const w = names.toWire(c.recipient, c.text);
          input.push({ type: 'function_call', call_id: c.id, name: w.name, arguments: w.args });
        }
      } else {
        // Assistant history as `output_text` parts: llama-server's `convert_responses_to_chatcmpl`
        // (tools/server/server-common.cpp) rejects a plain string ("'type' must be 'output_text'").
        input.push({
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: item.final || item.preamble, annotations: [] }],
        });
      }
    }
    const body: Record<string, unknown> = {
      model: this.opts.model,
      input,
      store: false,
      reasoning: { effort: r.effort },
    };
    const instructions = developerInstructions(r.messages);
    if (instructions) body.instructions = instructions;
    if (names.tools.length) {
      body.tools = names.tools.map((t) => ({
        type: 'function',
        name: t.name,
        description: t.description,
        parameters: t.parameters,
        strict: false,
      }));
    }
    if (r.maxTokens !== undefined) body.max_output_tokens = r.maxTokens;
    if (r.temperature !== undefined) body.temperature = r.temperature;
    if (r.topP !== undefined) body.top_p = r.topP;
    return body;
  }

  private toResult(res: ResponseBody, names: ToolNameMap): MessageResult {
    const messages: Message[] = [];
    // Text in a response that also calls tools is a preamble (commentary), not the answer.
    const hasCalls = (res.output ?? []).some((o) => o.type === 'function_call');
    for (const item of res.output ?? []) {
      if (item.type === 'reasoning') {
        const text =
          item.content?.map((c) => c.text ?? '').join('') || item.summary?.map((s) => s.text ?? '').join('');
        if (text) messages.push(assistantText('analysis', text));
      } else if (item.type === 'function_call') {
        const h = names.fromWire(item.name ?? '', item.arguments ?? '');
        messages.push(assistantCall(h.recipient, h.text));
      } else if (item.type === 'message') {
        const text =
          item.content?.map((c) => (c.type === 'output_text' ? (c.text ?? '') : '')).join('') ?? '';
        if (!text) continue;
        messages.push(...sanitizeContent(text, hasCalls ? 'commentary' : 'final'));
      }
    }
    const finishReason: FinishReason =
      res.status === 'incomplete' && res.incomplete_details?.reason === 'max_output_tokens'
        ? 'length'
        : 'stop';
    return {
      messages,
      finishReason,
      usage: { promptTokens: res.usage?.input_tokens ?? 0, completionTokens: res.usage?.output_tokens ?? 0 },
    };
  }

  private async call(body: Record<string, unknown>, signal: AbortSignal | undefined): Promise<unknown> {
    return viaOpenAI(
      this.id,
      () =>
        this.client.responses.create(body as unknown as OpenAI.Responses.ResponseCreateParams, { signal }),
      { retry: this.opts.retry, signal },
    );
  }

  async generate(r: MessageRequest): Promise<MessageResult> {
    const names = new ToolNameMap(flattenTools(r.tools));
    return this.toResult((await this.call(this.buildBody(r, names), r.signal)) as ResponseBody, names);
  }

  async *stream(r: MessageRequest): AsyncIterable<MessageChunk> {
    const names = new ToolNameMap(flattenTools(r.tools));
    const stream = (await this.call(
      { ...this.buildBody(r, names), stream: true },
      r.signal,
    )) as AsyncIterable<{
      type: string;
      delta?: string;
      response?: ResponseBody;
      item?: { type?: string };
    }>;
    let final: ResponseBody | undefined;
    // A message item followed by function calls in the same response is a preamble: hold text until it is known.
    const hold = new PreambleHold();
    for await (const ev of stream) {
      if (ev.type === 'response.reasoning_text.delta' && ev.delta) {
        yield { type: 'delta', channel: 'analysis', delta: ev.delta };
      } else if (ev.type === 'response.output_text.delta' && ev.delta) {
        yield* hold.text(ev.delta);
      } else if (ev.type === 'response.output_item.added' && ev.item?.type === 'function_call') {
        yield* hold.toolCall();
      } else if (
        (ev.type === 'response.completed' || ev.type === 'response.incomplete') &&
        ev.response !== undefined
      ) {
        final = ev.response;
        yield* hold.end((final.output ?? []).some((o) => o.type === 'function_call'));
      } else if (ev.type === 'response.failed' || ev.type === 'error') {
        throw new BackendError(`${this.id}: stream failed: ${JSON.stringify(ev).slice(0, 300)}`);
      }
    }
    if (!final) {
      if (r.signal?.aborted) {
        yield {
          type: 'done',
          result: { messages: [], finishReason: 'abort', usage: { promptTokens: 0, completionTokens: 0 } },
        };
        return;
      }
      throw new BackendError(`${this.id}: stream ended without response.completed`);
    }
    yield { type: 'done', result: this.toResult(final, names) };
  }
}
