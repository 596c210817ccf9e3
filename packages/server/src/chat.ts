/**
 * `POST /v1/chat/completions` over the agent loop. Stateless: the request's messages are the conversation.
 * Reasoning goes out as `reasoning` (the field OpenRouter, vLLM ≥ 0.11 and Ollama use) and `reasoning_content`
 * (older vLLM, LiteLLM); either comes back on assistant messages before their tool calls.
 */
import { type Message, type RunResult, runStream, type ToolDescription } from '@harmonia/core';
import { ApiError, invalid } from './errors.js';
import { type AgentSettings, newId, requestAgent } from './responses.js';
import {
  effortOf,
  FUNCTION_NAME,
  isObject,
  type Json,
  type JsonObject,
  optBool,
  optNumber,
  optString,
} from './validate.js';

type Item = Record<string, unknown>;

export interface ChatRequest {
  model: string;
  messages: Message[];
  instructions: string | undefined;
  functions: ToolDescription[];
  effort: ReturnType<typeof effortOf>;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  toolChoiceNone: boolean;
}

function contentText(content: Json | undefined, param: string): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content))
    throw invalid(param, `Invalid '${param}': expected a string or an array of parts.`);
  let out = '';
  for (const [i, part] of content.entries()) {
    if (isObject(part) && part.type === 'text' && typeof part.text === 'string') out += part.text;
    else {
      throw invalid(
        `${param}[${i}]`,
        `Unsupported content part '${isObject(part) ? String(part.type) : typeof part}': gpt-oss reads text only.`,
        'unsupported_value',
      );
    }
  }
  return out;
}

export function parseChatRequest(body: JsonObject): ChatRequest {
  const model = optString(body, 'model');
  if (!model) throw invalid('model', "Missing required parameter: 'model'.", 'missing_required_parameter');
  const list = body.messages;
  if (!Array.isArray(list) || list.length === 0) {
    throw invalid(
      'messages',
      "Missing required parameter: 'messages' (a non-empty array).",
      'missing_required_parameter',
    );
  }
  const messages: Message[] = [];
  const instructions: string[] = [];
  const calls = new Map<string, string>();
  for (const [i, m] of list.entries()) {
    const p = `messages[${i}]`;
    if (!isObject(m)) throw invalid(p, `Invalid '${p}': expected an object.`);
    const role = m.role;
    if (role === 'system' || role === 'developer') instructions.push(contentText(m.content, `${p}.content`));
    else if (role === 'user') {
      messages.push({
        role: 'user',
        content: [{ type: 'text', text: contentText(m.content, `${p}.content`) }],
      });
    } else if (role === 'assistant') {
      const toolCalls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
      const reasoning = m.reasoning ?? m.reasoning_content;
      // Reasoning matters only before tool calls; after a final answer Harmony drops it anyway.
      if (typeof reasoning === 'string' && reasoning && toolCalls.length) {
        messages.push({
          role: 'assistant',
          channel: 'analysis',
          content: [{ type: 'text', text: reasoning }],
        });
      }
      const text = contentText(m.content, `${p}.content`);
      if (text) {
        messages.push({
          role: 'assistant',
          channel: toolCalls.length ? 'commentary' : 'final',
          content: [{ type: 'text', text }],
        });
      }
      for (const [j, tc] of toolCalls.entries()) {
        const q = `${p}.tool_calls[${j}]`;
        if (!isObject(tc) || !isObject(tc.function) || typeof tc.function.name !== 'string') {
          throw invalid(q, `Invalid '${q}': expected {id, type: 'function', function: {name, arguments}}.`);
        }
        const recipient = `functions.${tc.function.name}`;
        if (typeof tc.id === 'string') calls.set(tc.id, recipient);
        messages.push({
          role: 'assistant',
          recipient,
          channel: 'commentary',
          content_type: '<|constrain|>json',
          content: [
            { type: 'text', text: typeof tc.function.arguments === 'string' ? tc.function.arguments : '{}' },
          ],
        });
      }
    } else if (role === 'tool') {
      const id = m.tool_call_id;
      const recipient = typeof id === 'string' ? calls.get(id) : undefined;
      if (!recipient) {
        throw invalid(
          `${p}.tool_call_id`,
          `Invalid '${p}.tool_call_id': no assistant tool call with id '${String(id)}' precedes it.`,
          'invalid_value',
        );
      }
      messages.push({
        role: 'tool',
        name: recipient,
        recipient: 'assistant',
        channel: 'commentary',
        content: [{ type: 'text', text: contentText(m.content, `${p}.content`) }],
      });
    } else {
      throw invalid(`${p}.role`, `Invalid '${p}.role': '${String(role)}'.`, 'invalid_value');
    }
  }
  const functions: ToolDescription[] = [];
  const tools = body.tools ?? [];
  if (!Array.isArray(tools)) throw invalid('tools', "Invalid 'tools': expected an array.");
  for (const [i, t] of tools.entries()) {
    const p = `tools[${i}]`;
    if (!isObject(t) || t.type !== 'function' || !isObject(t.function)) {
      throw invalid(
        p,
        `Invalid '${p}': expected {type: 'function', function: {name, description, parameters}}.`,
      );
    }
    const f = t.function;
    if (typeof f.name !== 'string' || !FUNCTION_NAME.test(f.name)) {
      throw invalid(
        `${p}.function.name`,
        `Invalid '${p}.function.name': '${String(f.name)}'.`,
        'invalid_value',
      );
    }
    functions.push({
      name: f.name,
      description: typeof f.description === 'string' ? f.description : '',
      ...(isObject(f.parameters) ? { parameters: f.parameters } : {}),
    });
  }
  const so = body.stream_options;
  const maxTokens =
    optNumber(body, 'max_completion_tokens', { min: 1, integer: true }) ??
    optNumber(body, 'max_tokens', { min: 1, integer: true });
  return {
    model,
    messages,
    instructions: instructions.filter(Boolean).join('\n\n') || undefined,
    functions,
    effort: effortOf(body.reasoning_effort, 'reasoning_effort'),
    stream: optBool(body, 'stream') ?? false,
    includeUsage: isObject(so) && so.include_usage === true,
    maxTokens,
    temperature: optNumber(body, 'temperature', { min: 0, max: 2 }),
    topP: optNumber(body, 'top_p', { min: 0, max: 1 }),
    toolChoiceNone: body.tool_choice === 'none',
  };
}

const finishReason = (r: RunResult): string =>
  r.pendingCalls?.length ? 'tool_calls' : r.turns.at(-1)?.finishReason === 'length' ? 'length' : 'stop';

function toolCalls(r: RunResult): Item[] | undefined {
  if (!r.pendingCalls?.length) return undefined;
  return r.pendingCalls.map((c) => ({
    id: newId('call'),
    type: 'function',
    function: {
      name: c.recipient.startsWith('functions.') ? c.recipient.slice('functions.'.length) : c.recipient,
      arguments: c.arguments,
    },
  }));
}

const usageOf = (r: RunResult): Item => ({
  prompt_tokens: r.usage.promptTokens,
  completion_tokens: r.usage.completionTokens,
  total_tokens: r.usage.promptTokens + r.usage.completionTokens,
  prompt_tokens_details: { cached_tokens: r.usage.cachedPromptTokens },
});

/**
 * Runs one chat request. With `sink` it streams chunks (and returns nothing useful); without it resolves to
 * the completion object. Run failures throw an `ApiError` (before the first chunk, or mid-stream: the caller
 * ends the stream with an error event).
 */
export async function runChat(
  req: ChatRequest,
  settings: AgentSettings,
  signal: AbortSignal,
  sink: ((chunk: Item) => void) | undefined,
): Promise<Item> {
  const id = newId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const agent = requestAgent(settings, {
    model: req.model,
    instructions: req.instructions,
    functions: req.functions,
    effort: req.effort,
    session: id,
    toolChoiceNone: req.toolChoiceNone,
    maxTokens: req.maxTokens,
    temperature: req.temperature,
    topP: req.topP,
  });
  const chunk = (delta: Item, finish: string | null = null, extra: Item = {}): Item => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: req.model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...extra,
  });
  sink?.(chunk({ role: 'assistant', content: '' }));
  let result: RunResult | undefined;
  let content = '';
  try {
    for await (const ev of runStream(
      agent,
      { messages: req.messages },
      { includeReasoning: !settings.hideReasoning, signal },
    )) {
      if (ev.type === 'done') result = ev.result;
      else if (ev.type === 'reasoning_delta') {
        sink?.(chunk({ reasoning: ev.delta, reasoning_content: ev.delta }));
      } else if (ev.type === 'final_delta' || ev.type === 'preamble_delta') {
        content += ev.delta;
        sink?.(chunk({ content: ev.delta }));
      }
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    throw new ApiError(500, e.message, 'server_error', null, e.name || 'error');
  }
  if (!result) throw new ApiError(500, 'the run ended without a result', 'server_error');
  const calls = toolCalls(result);
  const reason = finishReason(result);
  if (sink) {
    // A guardrail's reply replaces a refused answer: send what the user must see instead.
    if (result.status !== 'completed' && result.status !== 'tool_calls' && result.finalText !== content) {
      sink(chunk({ content: result.finalText ? `\n${result.finalText}` : '' }));
    }
    if (calls) {
      sink(chunk({ tool_calls: calls.map((c, index) => ({ index, ...c })) }));
    }
    sink(chunk({}, reason));
    if (req.includeUsage) sink({ ...chunk({}), choices: [], usage: usageOf(result) });
    return {};
  }
  const visible =
    result.status === 'completed' || result.status === 'tool_calls' ? content : result.finalText;
  const message: Item = {
    role: 'assistant',
    content: result.status === 'completed' ? result.finalText : visible || null,
    refusal: null,
    ...(settings.hideReasoning || !result.reasoning
      ? {}
      : { reasoning: result.reasoning, reasoning_content: result.reasoning }),
    ...(calls ? { tool_calls: calls } : {}),
  };
  return {
    id,
    object: 'chat.completion',
    created,
    model: req.model,
    system_fingerprint: null,
    choices: [{ index: 0, message, logprobs: null, finish_reason: reason }],
    usage: usageOf(result),
  };
}
