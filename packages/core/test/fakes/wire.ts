/**
 * The wire formats of each server's model endpoints, driven by scripted model turns. Each generator follows the
 * server code cited on it; `servers.ts` puts them behind each server's route table.
 */
import { encode, Tok } from '../../src/harmony/api.js';
import type { FakeHandler, FakeReply, RecordedRequest } from './server.js';

export interface FakeCall {
  name: string;
  arguments: string;
}
export interface FakeTurn {
  reasoning?: string;
  content?: string;
  calls?: FakeCall[];
  /** `length`: the answer is cut off. */
  finish?: 'stop' | 'length';
}

/** Splits text into pieces of `n` characters (streamed deltas). */
export const pieces = (s: string, n = 4): string[] => {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out;
};

/**
 * A scripted model: each model request takes the next turn (a `TurnQueue` shared by several endpoints makes a server
 * fake answer from one script whichever endpoint is called); extra requests fail loudly.
 */
export class TurnQueue {
  private readonly left: FakeTurn[];
  constructor(turns: readonly FakeTurn[]) {
    this.left = [...turns];
  }
  next(): FakeTurn | undefined {
    return this.left.shift();
  }
}

export type Turns = readonly FakeTurn[] | TurnQueue;
const queueOf = (t: Turns): TurnQueue => (t instanceof TurnQueue ? t : new TurnQueue(t));

export function scripted(
  turns: Turns,
  reply: (t: FakeTurn, req: RecordedRequest) => FakeReply,
  paths?: readonly string[],
): FakeHandler {
  const q = queueOf(turns);
  let i = 0;
  return (req) => {
    if (paths && !paths.includes(req.path)) return { status: 404, json: { error: 'not found' } };
    i++;
    const t = q.next();
    if (!t) return { status: 500, json: { error: { message: `fake: unexpected request #${i}` } } };
    return reply(t, req);
  };
}

// ---------- token level: Harmony text ----------

/** The completion text a Harmony model would write for a turn, and the stop token that ended it. */
export function harmonyCompletion(t: FakeTurn): { text: string; stop: number | null } {
  const parts: string[] = [];
  if (t.reasoning) parts.push(`<|channel|>analysis<|message|>${t.reasoning}`);
  for (const c of t.calls ?? []) {
    parts.push(` to=functions.${c.name}<|channel|>commentary <|constrain|>json<|message|>${c.arguments}`);
  }
  if (t.content !== undefined && !t.calls?.length) parts.push(`<|channel|>final<|message|>${t.content}`);
  const text = parts.join('<|end|><|start|>assistant');
  if (t.finish === 'length') return { text: text.slice(0, Math.max(1, text.length - 3)), stop: null };
  const stop = t.calls?.length ? Tok.call : Tok.return;
  return { text, stop };
}

/** vLLM `/v1/completions` with `return_token_ids`: ids without the stop id, which is reported in `stop_reason`. */
export function vllmCompletions(turns: Turns, paths: readonly string[] = ['/v1/completions']): FakeHandler {
  return scripted(
    turns,
    (t, req) => {
      const { text, stop } = harmonyCompletion(t);
      const ids = encode(text, { allowSpecial: true });
      const finish = t.finish === 'length' ? 'length' : 'stop';
      const prompt = req.body.prompt as number[];
      const usage = { prompt_tokens: prompt.length, completion_tokens: ids.length + 1, total_tokens: 0 };
      if (!req.body.stream) {
        return {
          status: 200,
          json: {
            id: 'cmpl-1',
            object: 'text_completion',
            model: req.body.model,
            choices: [{ index: 0, text, token_ids: ids, finish_reason: finish, stop_reason: stop }],
            usage,
          },
        };
      }
      const chunks: unknown[] = [];
      for (let i = 0; i < ids.length; i += 3) {
        const last = i + 3 >= ids.length;
        chunks.push({
          id: 'cmpl-1',
          object: 'text_completion',
          choices: [
            {
              index: 0,
              text: '',
              token_ids: ids.slice(i, i + 3),
              finish_reason: last ? finish : null,
              stop_reason: last ? stop : null,
            },
          ],
        });
      }
      chunks.push({ id: 'cmpl-1', object: 'text_completion', choices: [], usage });
      return { sse: chunks };
    },
    paths,
  );
}

/** Ollama `/api/generate` raw mode: NDJSON text pieces (special tokens split across pieces), stop string excluded. */
export function ollamaGenerate(turns: Turns, paths: readonly string[] = ['/api/generate']): FakeHandler {
  return scripted(
    turns,
    (t, req) => {
      const { text } = harmonyCompletion(t);
      const done = {
        model: req.body.model,
        response: '',
        done: true,
        done_reason: t.finish === 'length' ? 'length' : 'stop',
        prompt_eval_count: 42,
        eval_count: 17,
      };
      if (req.body.stream === false) return { status: 200, json: { ...done, response: text } };
      return {
        ndjson: [...pieces(text, 5).map((p) => ({ model: req.body.model, response: p, done: false })), done],
      };
    },
    paths,
  );
}

// ---------- message level: Chat Completions ----------

export interface ChatFlavor {
  name: string;
  /** Where the server writes reasoning in answers. */
  reasoningField: 'reasoning' | 'reasoning_content';
  /** Groq: HTTP 400 when history carries reasoning. */
  rejectsReasoningInHistory?: boolean;
  /** OpenRouter: also `reasoning_details`. */
  reasoningDetails?: boolean;
}

export const CHAT_FLAVORS = {
  vllm: { name: 'vllm', reasoningField: 'reasoning' },
  llamacpp: { name: 'llamacpp', reasoningField: 'reasoning_content' },
  ollama: { name: 'ollama', reasoningField: 'reasoning' },
  openrouter: { name: 'openrouter', reasoningField: 'reasoning', reasoningDetails: true },
  groq: { name: 'groq', reasoningField: 'reasoning', rejectsReasoningInHistory: true },
  lmstudio: { name: 'lmstudio', reasoningField: 'reasoning_content' },
} as const satisfies Record<string, ChatFlavor>;

export function chatCompletions(
  flavor: ChatFlavor,
  turns: Turns,
  paths: readonly string[] = ['/v1/chat/completions'],
): FakeHandler {
  return scripted(
    turns,
    (t, req) => {
      if (flavor.rejectsReasoningInHistory) {
        const msgs = req.body.messages as Record<string, unknown>[];
        const bad = msgs.find((m) => 'reasoning' in m || 'reasoning_content' in m);
        if (bad) {
          const field = 'reasoning' in bad ? 'reasoning' : 'reasoning_content';
          return {
            status: 400,
            json: {
              error: {
                message: `'messages.${msgs.indexOf(bad)}' : for 'role:assistant' the following must be satisfied[('messages.${msgs.indexOf(bad)}' : property '${field}' is unsupported)]`,
                type: 'invalid_request_error',
              },
            },
          };
        }
      }
      const calls = (t.calls ?? []).map((c, i) => ({
        id: `call_${flavor.name}_${i}`,
        type: 'function',
        function: { name: c.name, arguments: c.arguments },
      }));
      const finish = t.finish === 'length' ? 'length' : calls.length ? 'tool_calls' : 'stop';
      const usage = { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 };
      const extra = (text: string) =>
        flavor.reasoningDetails
          ? { reasoning_details: [{ type: 'reasoning.text', text, format: 'unknown' }] }
          : {};
      if (!req.body.stream) {
        const message: Record<string, unknown> = { role: 'assistant', content: t.content ?? null };
        if (t.reasoning) Object.assign(message, { [flavor.reasoningField]: t.reasoning }, extra(t.reasoning));
        if (calls.length) message.tool_calls = calls;
        return {
          status: 200,
          json: {
            id: 'chatcmpl-1',
            object: 'chat.completion',
            model: req.body.model,
            choices: [{ index: 0, message, finish_reason: finish }],
            usage,
          },
        };
      }
      const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) => ({
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        model: req.body.model,
        choices: [{ index: 0, delta, finish_reason }],
      });
      const out: unknown[] = [chunk({ role: 'assistant', content: '' })];
      for (const p of pieces(t.reasoning ?? '')) out.push(chunk({ [flavor.reasoningField]: p, ...extra(p) }));
      for (const p of pieces(t.content ?? '')) out.push(chunk({ content: p }));
      calls.forEach((c, index) => {
        out.push(
          chunk({
            tool_calls: [
              { index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } },
            ],
          }),
        );
        for (const p of pieces(c.function.arguments, 6)) {
          out.push(chunk({ tool_calls: [{ index, function: { arguments: p } }] }));
        }
      });
      out.push(chunk({}, finish));
      const so = req.body.stream_options as { include_usage?: boolean } | undefined;
      if (so?.include_usage)
        out.push({ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [], usage });
      return { sse: out };
    },
    paths,
  );
}

// ---------- message level: Responses API ----------

export function responsesApi(turns: Turns, paths: readonly string[] = ['/v1/responses']): FakeHandler {
  return scripted(
    turns,
    (t, req) => {
      const output: Record<string, unknown>[] = [];
      if (t.reasoning) {
        output.push({
          type: 'reasoning',
          id: 'rs_1',
          summary: [],
          content: [{ type: 'reasoning_text', text: t.reasoning }],
        });
      }
      if (t.content !== undefined && t.calls?.length) {
        // A preamble: a message item before the calls of the same response.
        output.push({
          type: 'message',
          id: 'msg_0',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: t.content, annotations: [] }],
        });
      }
      (t.calls ?? []).forEach((c, i) => {
        output.push({
          type: 'function_call',
          id: `fc_${i}`,
          call_id: `call_${i}`,
          name: c.name,
          arguments: c.arguments,
          status: 'completed',
        });
      });
      if (t.content !== undefined && !t.calls?.length) {
        output.push({
          type: 'message',
          id: 'msg_1',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: t.content, annotations: [] }],
        });
      }
      const response = {
        id: 'resp_1',
        object: 'response',
        created_at: 0,
        model: req.body.model,
        status: t.finish === 'length' ? 'incomplete' : 'completed',
        incomplete_details: t.finish === 'length' ? { reason: 'max_output_tokens' } : null,
        output,
        usage: { input_tokens: 30, output_tokens: 12, total_tokens: 42 },
      };
      if (!req.body.stream) return { status: 200, json: response };
      let n = 0;
      const ev = (type: string, rest: Record<string, unknown> = {}) => ({
        type,
        sequence_number: n++,
        ...rest,
      });
      const events: unknown[] = [
        ev('response.created', { response: { ...response, status: 'in_progress', output: [] } }),
        ev('response.in_progress', { response: { ...response, status: 'in_progress', output: [] } }),
      ];
      output.forEach((item, output_index) => {
        events.push(ev('response.output_item.added', { output_index, item }));
        if (item.type === 'reasoning') {
          for (const p of pieces(t.reasoning ?? '')) {
            events.push(
              ev('response.reasoning_text.delta', {
                output_index,
                content_index: 0,
                item_id: 'rs_1',
                delta: p,
              }),
            );
          }
          events.push(
            ev('response.reasoning_text.done', {
              output_index,
              content_index: 0,
              item_id: 'rs_1',
              text: t.reasoning,
            }),
          );
        } else if (item.type === 'message') {
          for (const p of pieces(t.content ?? '')) {
            events.push(
              ev('response.output_text.delta', {
                output_index,
                content_index: 0,
                item_id: 'msg_1',
                delta: p,
                logprobs: [],
              }),
            );
          }
          events.push(
            ev('response.output_text.done', {
              output_index,
              content_index: 0,
              item_id: 'msg_1',
              text: t.content,
              logprobs: [],
            }),
          );
        } else {
          events.push(
            ev('response.function_call_arguments.delta', {
              output_index,
              item_id: item.id,
              delta: item.arguments,
            }),
          );
          events.push(
            ev('response.function_call_arguments.done', {
              output_index,
              item_id: item.id,
              arguments: item.arguments,
            }),
          );
        }
        events.push(ev('response.output_item.done', { output_index, item }));
      });
      events.push(ev(t.finish === 'length' ? 'response.incomplete' : 'response.completed', { response }));
      return { sse: events, named: true, done: false };
    },
    paths,
  );
}

// ---------- message level: Ollama native /api/chat ----------

/** Ollama `/api/chat`: `thinking` beside `content`, whole tool calls with object arguments, NDJSON streaming. */
export function ollamaChat(turns: Turns, paths: readonly string[] = ['/api/chat']): FakeHandler {
  return scripted(
    turns,
    (t, req) => {
      const tool_calls = (t.calls ?? []).map((c) => ({
        function: { name: c.name, arguments: JSON.parse(c.arguments) as unknown },
      }));
      const done = {
        model: req.body.model,
        done: true,
        done_reason: t.finish === 'length' ? 'length' : 'stop',
        prompt_eval_count: 30,
        eval_count: 12,
      };
      if (req.body.stream === false) {
        const message: Record<string, unknown> = { role: 'assistant', content: t.content ?? '' };
        if (t.reasoning) message.thinking = t.reasoning;
        if (tool_calls.length) message.tool_calls = tool_calls;
        return { status: 200, json: { ...done, message } };
      }
      const line = (message: Record<string, unknown>) => ({
        model: req.body.model,
        message: { role: 'assistant', content: '', ...message },
        done: false,
      });
      return {
        ndjson: [
          ...pieces(t.reasoning ?? '').map((p) => line({ thinking: p })),
          ...pieces(t.content ?? '').map((p) => line({ content: p })),
          ...(tool_calls.length ? [line({ tool_calls })] : []),
          { ...done, message: { role: 'assistant', content: '' } },
        ],
      };
    },
    paths,
  );
}
