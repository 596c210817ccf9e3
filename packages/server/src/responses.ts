/**
 * `POST /v1/responses` over the agent loop: request → Harmony history (the mapping of the gpt-oss reference
 * server, `gpt_oss/responses_api/api_server.py::generate`), run events → Responses output items and SSE events
 * in the order the official SDKs accumulate them (`response.created` … `response.completed`).
 */
import { randomBytes } from 'node:crypto';
import {
  Agent,
  type AgentOptions,
  type Backend,
  type BackendChooser,
  InMemoryConversationStore,
  type Message,
  type PendingCall,
  type ReasoningEffort,
  type RunEvent,
  type RunResult,
  runStream,
  type ToolDescription,
  type ToolNamespace,
} from '@harmonia/core';
import { ApiError, invalid } from './errors.js';
import type { ResponseStore, StoredResponse } from './store.js';
import { clientFunctions, sessionScoped } from './tools.js';
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

export const newId = (prefix: string): string => `${prefix}_${randomBytes(12).toString('hex')}`;

/** Settings every request shares (the server's configuration). */
export interface AgentSettings {
  backend: Backend | BackendChooser;
  /** Server-side namespaces: built-in browser/python, MCP servers. */
  tools: readonly ToolNamespace[];
  /** Default reasoning effort when a request sets none. */
  effort: ReasoningEffort;
  /** Leave reasoning text out of every answer (public deployments). */
  hideReasoning: boolean;
  /** Model calls per request, tool rounds included. */
  maxTurns?: number;
  /** Guardrails, monitor and other agent options applied to every request. */
  agent?: Omit<AgentOptions, 'backend' | 'tools' | 'instructions' | 'effort' | 'store'>;
  /** Model names served by a backend of their own (router arms); any other name goes to `backend`. */
  arms?: Readonly<Record<string, ServedArm>>;
}

/** A named arm: its backend, and the effort it stands for when the request sets none (`20b-low`). */
export interface ServedArm {
  backend: Backend;
  effort?: ReasoningEffort;
}

/**
 * The arm a model name asks for: the arm of that name, else by size (`gpt-oss-120b` → the first `120b…` arm,
 * `gpt-oss-20b` → the first `20b…` arm); `undefined` (e.g. `auto`) leaves the choice to the backend (a router).
 */
export function armFor(
  arms: Readonly<Record<string, ServedArm>> | undefined,
  model: string,
): ServedArm | undefined {
  if (!arms) return undefined;
  if (arms[model]) return arms[model];
  const size = /120b/i.test(model) ? '120b' : /20b/i.test(model) ? '20b' : undefined;
  if (!size) return undefined;
  const key = Object.keys(arms).find((k) => k === size || k.startsWith(`${size}-`));
  return key ? arms[key] : undefined;
}

type Item = Record<string, unknown>;
type Emit = (event: Item) => void;

interface ResponsesRequest {
  model: string;
  input: Message[];
  instructions: string | undefined;
  functions: ToolDescription[];
  toolsJson: Json[];
  effort: ReasoningEffort | undefined;
  stream: boolean;
  store: boolean;
  previous: StoredResponse | undefined;
  previousId: string | undefined;
  maxOutputTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  toolChoice: Json;
  metadata: Json;
  calls: Record<string, { recipient: string; channel: string }>;
}

function textOf(content: Json | undefined, param: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content))
    throw invalid(param, `Invalid '${param}': expected a string or an array of parts.`);
  let out = '';
  for (const [i, part] of content.entries()) {
    if (!isObject(part)) throw invalid(`${param}[${i}]`, `Invalid '${param}[${i}]': expected an object.`);
    const t = part.type;
    if ((t === 'input_text' || t === 'output_text' || t === 'text') && typeof part.text === 'string') {
      out += part.text;
    } else if (t === 'reasoning_text' || t === 'summary_text') {
      out += typeof part.text === 'string' ? part.text : '';
    } else {
      throw invalid(
        `${param}[${i}].type`,
        `Unsupported content part type '${String(t)}': gpt-oss reads text only (input_text, output_text).`,
        'unsupported_value',
      );
    }
  }
  return out;
}

const text = (role: 'user' | 'assistant', t: string, channel?: string): Message => ({
  role,
  ...(channel ? { channel } : {}),
  content: [{ type: 'text', text: t }],
});

/**
 * Input items → Harmony messages. Returns extra developer instructions from system/developer messages too.
 * Function calls and outputs are paired by call id, looked up in `calls` (the previous response's) and in
 * the items themselves.
 */
export function mapInput(
  input: Json | undefined,
  calls: Record<string, { recipient: string; channel: string }>,
): { messages: Message[]; instructions: string[] } {
  if (typeof input === 'string') return { messages: [text('user', input)], instructions: [] };
  if (!Array.isArray(input)) {
    throw invalid('input', "Missing or invalid 'input': expected a string or an array of input items.");
  }
  const messages: Message[] = [];
  const instructions: string[] = [];
  for (const [i, item] of input.entries()) {
    const p = `input[${i}]`;
    if (!isObject(item)) throw invalid(p, `Invalid '${p}': expected an object.`);
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    if (type === 'message') {
      const role = item.role;
      const body = textOf(item.content, `${p}.content`);
      if (role === 'user') messages.push(text('user', body));
      else if (role === 'assistant') {
        messages.push(text('assistant', body, item.phase === 'commentary' ? 'commentary' : 'final'));
      } else if (role === 'system' || role === 'developer') instructions.push(body);
      else {
        throw invalid(
          `${p}.role`,
          `Invalid '${p}.role': '${String(role)}'. Supported: user, assistant, system, developer.`,
          'invalid_value',
        );
      }
    } else if (type === 'reasoning') {
      const parts = Array.isArray(item.content) && item.content.length ? item.content : item.summary;
      const body = parts === undefined || parts === null ? '' : textOf(parts, `${p}.content`);
      if (body) messages.push(text('assistant', body, 'analysis'));
    } else if (type === 'function_call') {
      const name = item.name;
      if (typeof name !== 'string' || !name) throw invalid(`${p}.name`, `Missing '${p}.name'.`);
      if (typeof item.call_id !== 'string') throw invalid(`${p}.call_id`, `Missing '${p}.call_id'.`);
      const recipient = `functions.${name}`;
      calls[item.call_id] = { recipient, channel: 'commentary' };
      messages.push({
        role: 'assistant',
        recipient,
        channel: 'commentary',
        content_type: '<|constrain|>json',
        content: [{ type: 'text', text: typeof item.arguments === 'string' ? item.arguments : '{}' }],
      });
    } else if (type === 'function_call_output') {
      const callId = item.call_id;
      const call = typeof callId === 'string' ? calls[callId] : undefined;
      if (!call) {
        throw invalid(
          `${p}.call_id`,
          `No tool call found for function call output with call_id '${String(callId)}'.`,
          'invalid_value',
        );
      }
      messages.push({
        role: 'tool',
        name: call.recipient,
        recipient: 'assistant',
        channel: call.channel,
        content: [{ type: 'text', text: textOf(item.output ?? '', `${p}.output`) }],
      });
    } else if (
      type === 'web_search_call' ||
      type === 'code_interpreter_call' ||
      type === 'mcp_call' ||
      type === 'mcp_list_tools'
    ) {
      // Server-side tool items carry no Harmony of their own (the reference server skips them too).
    } else {
      throw invalid(`${p}.type`, `Unsupported input item type '${String(type)}'.`, 'unsupported_value');
    }
  }
  return { messages, instructions };
}

/** Validates a body and loads the previous response. */
export async function parseResponsesRequest(
  body: JsonObject,
  store: ResponseStore,
  settings: AgentSettings,
): Promise<ResponsesRequest> {
  const model = optString(body, 'model');
  if (!model) throw invalid('model', "Missing required parameter: 'model'.", 'missing_required_parameter');
  if (body.input === undefined) {
    throw invalid('input', "Missing required parameter: 'input'.", 'missing_required_parameter');
  }
  const previousId = optString(body, 'previous_response_id');
  let previous: StoredResponse | undefined;
  if (previousId !== undefined) {
    previous = (await store.load(previousId)) ?? undefined;
    if (!previous) {
      throw new ApiError(
        404,
        `Previous response with id '${previousId}' not found.`,
        'invalid_request_error',
        'previous_response_id',
        'previous_response_not_found',
      );
    }
  }
  const calls = { ...(previous?.meta.calls ?? {}) };
  const mapped = mapInput(body.input, calls);
  const functions: ToolDescription[] = [];
  const toolsJson: Json[] = [];
  const tools = body.tools ?? [];
  if (!Array.isArray(tools)) throw invalid('tools', "Invalid 'tools': expected an array.");
  const serverNames = new Set(settings.tools.map((t) => t.name));
  for (const [i, t] of tools.entries()) {
    const p = `tools[${i}]`;
    if (!isObject(t)) throw invalid(p, `Invalid '${p}': expected an object.`);
    toolsJson.push(t);
    if (t.type === 'function') {
      const name = t.name;
      if (typeof name !== 'string' || !FUNCTION_NAME.test(name)) {
        throw invalid(
          `${p}.name`,
          `Invalid '${p}.name': '${String(name)}'. Use 1 to 64 letters, digits, '_' or '-'.`,
          'invalid_value',
        );
      }
      if (functions.some((f) => f.name === name)) {
        throw invalid(`${p}.name`, `Duplicate function name '${name}'.`, 'invalid_value');
      }
      if (t.parameters !== undefined && t.parameters !== null && !isObject(t.parameters)) {
        throw invalid(`${p}.parameters`, `Invalid '${p}.parameters': expected a JSON Schema object.`);
      }
      functions.push({
        name,
        description: typeof t.description === 'string' ? t.description : '',
        ...(isObject(t.parameters) ? { parameters: t.parameters } : {}),
      });
    } else if (t.type === 'web_search' || t.type === 'web_search_preview' || t.type === 'browser_search') {
      if (!serverNames.has('browser')) {
        throw invalid(
          `${p}.type`,
          `Tool '${t.type}' needs the browser tool on this server (start it with --tools browser).`,
          'unsupported_value',
        );
      }
    } else if (t.type === 'code_interpreter') {
      if (!serverNames.has('python')) {
        throw invalid(
          `${p}.type`,
          "Tool 'code_interpreter' needs the python tool on this server (start it with --tools python).",
          'unsupported_value',
        );
      }
    } else {
      throw invalid(`${p}.type`, `Unsupported tool type '${String(t.type)}'.`, 'unsupported_value');
    }
  }
  const reasoning = body.reasoning;
  if (reasoning !== undefined && reasoning !== null && !isObject(reasoning)) {
    throw invalid('reasoning', "Invalid 'reasoning': expected an object.");
  }
  const instructions = [optString(body, 'instructions'), ...mapped.instructions].filter(
    (s): s is string => !!s,
  );
  return {
    model,
    input: mapped.messages,
    instructions: instructions.length ? instructions.join('\n\n') : undefined,
    functions,
    toolsJson,
    effort: isObject(reasoning) ? effortOf(reasoning.effort, 'reasoning.effort') : undefined,
    stream: optBool(body, 'stream') ?? false,
    store: optBool(body, 'store') ?? true,
    previous,
    previousId,
    maxOutputTokens: optNumber(body, 'max_output_tokens', { min: 1, integer: true }),
    temperature: optNumber(body, 'temperature', { min: 0, max: 2 }),
    topP: optNumber(body, 'top_p', { min: 0, max: 1 }),
    toolChoice: body.tool_choice ?? 'auto',
    metadata: body.metadata ?? {},
    calls,
  };
}

/** The agent for one request: the server's tools (scoped to the chain's session) plus the client's functions. */
export function requestAgent(
  settings: AgentSettings,
  opts: {
    model: string;
    instructions: string | undefined;
    functions: readonly ToolDescription[];
    effort: ReasoningEffort | undefined;
    session: string;
    toolChoiceNone: boolean;
    maxTokens?: number | undefined;
    temperature?: number | undefined;
    topP?: number | undefined;
  },
): Agent {
  const tools: ToolNamespace[] = opts.toolChoiceNone
    ? []
    : [
        ...settings.tools.map((t) => sessionScoped(t, opts.session)),
        ...(opts.functions.length ? [clientFunctions(opts.functions)] : []),
      ];
  const base = settings.agent ?? {};
  const arm = armFor(settings.arms, opts.model);
  const sampling = {
    ...(base.sampling ?? {}),
    ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}),
    ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
    ...(opts.topP !== undefined ? { topP: opts.topP } : {}),
  };
  return new Agent({
    ...base,
    backend: arm?.backend ?? settings.backend,
    tools,
    effort: opts.effort ?? arm?.effort ?? settings.effort,
    ...(opts.instructions ? { instructions: opts.instructions } : {}),
    ...(settings.maxTurns !== undefined ? { maxTurns: settings.maxTurns } : {}),
    sampling,
    store: new InMemoryConversationStore(),
  });
}

/** The kind of output item a server-side call becomes. */
function callItem(recipient: string, args: string, session: string): Item {
  const dot = recipient.indexOf('.');
  const ns = dot < 0 ? recipient : recipient.slice(0, dot);
  const fn = dot < 0 ? '' : recipient.slice(dot + 1);
  if (ns === 'python') {
    return {
      id: newId('ci'),
      type: 'code_interpreter_call',
      status: 'in_progress',
      code: args,
      container_id: session,
      outputs: null,
    };
  }
  if (ns === 'browser') {
    let a: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(args || '{}');
      if (isObject(parsed)) a = parsed;
    } catch {
      // the tool reports bad arguments to the model; the item shows what it can
    }
    const action =
      fn === 'search'
        ? { type: 'search', query: typeof a.query === 'string' ? a.query : '' }
        : fn === 'find'
          ? { type: 'find', pattern: typeof a.pattern === 'string' ? a.pattern : '', url: null }
          : { type: 'open_page', url: typeof a.id === 'string' ? a.id : null };
    return { id: newId('ws'), type: 'web_search_call', status: 'in_progress', action };
  }
  return {
    id: newId('mcp'),
    type: 'mcp_call',
    server_label: ns,
    name: fn,
    arguments: args,
    output: null,
    error: null,
    status: 'in_progress',
  };
}

/** Progress event names per server-side item type (as the hosted API sends them). */
const PROGRESS: Record<string, { start: string[]; done: string }> = {
  code_interpreter_call: {
    start: ['response.code_interpreter_call.in_progress'],
    done: 'response.code_interpreter_call.completed',
  },
  web_search_call: {
    start: ['response.web_search_call.in_progress', 'response.web_search_call.searching'],
    done: 'response.web_search_call.completed',
  },
  mcp_call: { start: ['response.mcp_call.in_progress'], done: 'response.mcp_call.completed' },
};

interface OpenItem {
  kind: 'reasoning' | 'message';
  phase?: 'commentary' | 'final_answer';
  index: number;
  item: Item;
  text: string;
}

/**
 * Turns run events into output items and SSE events. One builder serves streamed and plain requests, so the
 * output of `response.completed` and of a plain answer are built the same way.
 */
export class ResponseBuilder {
  readonly output: Item[] = [];
  private open: OpenItem | undefined;
  private readonly running = new Map<string, { index: number; item: Item }>();
  private seq = 0;
  readonly createdAt = Math.floor(Date.now() / 1000);
  pendingCalls: Record<string, { recipient: string; channel: string }> = {};

  constructor(
    readonly id: string,
    private readonly req: ResponsesRequest,
    private readonly settings: AgentSettings,
    private readonly session: string,
    private readonly effort: ReasoningEffort,
    private readonly sink: Emit | undefined,
  ) {}

  private emit(type: string, fields: Item): void {
    this.sink?.({ type, sequence_number: this.seq++, ...fields });
  }

  response(status: string, extra: Item = {}): Item {
    const r = this.req;
    return {
      id: this.id,
      object: 'response',
      created_at: this.createdAt,
      status,
      background: false,
      error: null,
      incomplete_details: null,
      instructions: r.instructions ?? null,
      max_output_tokens: r.maxOutputTokens ?? null,
      metadata: r.metadata,
      model: r.model,
      output: structuredClone(this.output),
      parallel_tool_calls: true,
      previous_response_id: r.previousId ?? null,
      reasoning: { effort: this.effort, summary: null },
      store: r.store,
      temperature: r.temperature ?? null,
      text: { format: { type: 'text' } },
      tool_choice: r.toolChoice,
      tools: r.toolsJson,
      top_p: r.topP ?? null,
      truncation: 'disabled',
      usage: null,
      ...extra,
    };
  }

  start(): void {
    this.emit('response.created', { response: this.response('in_progress') });
    this.emit('response.in_progress', { response: this.response('in_progress') });
  }

  private openItem(kind: OpenItem['kind'], phase?: OpenItem['phase']): OpenItem {
    if (this.open && this.open.kind === kind && this.open.phase === phase) return this.open;
    this.close();
    const index = this.output.length;
    const item: Item =
      kind === 'reasoning'
        ? { id: newId('rs'), type: 'reasoning', summary: [], content: [] }
        : {
            id: newId('msg'),
            type: 'message',
            role: 'assistant',
            status: 'in_progress',
            content: [],
            ...(phase ? { phase } : {}),
          };
    this.output.push(item);
    this.emit('response.output_item.added', { output_index: index, item: structuredClone(item) });
    const part =
      kind === 'reasoning'
        ? { type: 'reasoning_text', text: '' }
        : { type: 'output_text', text: '', annotations: [], logprobs: [] };
    (item.content as Item[]).push({ ...part });
    this.emit('response.content_part.added', {
      item_id: item.id,
      output_index: index,
      content_index: 0,
      part,
    });
    this.open = { kind, ...(phase ? { phase } : {}), index, item, text: '' };
    return this.open;
  }

  /** Closes the open reasoning or message item. */
  close(): void {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    const base = { item_id: o.item.id, output_index: o.index, content_index: 0 };
    if (o.kind === 'reasoning') {
      const part = { type: 'reasoning_text', text: o.text };
      o.item.content = [part];
      this.emit('response.reasoning_text.done', { ...base, text: o.text });
      this.emit('response.content_part.done', { ...base, part });
    } else {
      const part = { type: 'output_text', text: o.text, annotations: [], logprobs: [] };
      o.item.content = [part];
      o.item.status = 'completed';
      this.emit('response.output_text.done', { ...base, text: o.text, logprobs: [] });
      this.emit('response.content_part.done', { ...base, part });
    }
    this.emit('response.output_item.done', { output_index: o.index, item: structuredClone(o.item) });
  }

  private textDelta(phase: 'commentary' | 'final_answer', delta: string): void {
    const o = this.openItem('message', phase);
    o.text += delta;
    this.emit('response.output_text.delta', {
      item_id: o.item.id,
      output_index: o.index,
      content_index: 0,
      delta,
      logprobs: [],
    });
  }

  /** Feeds one run event. */
  event(ev: RunEvent): void {
    switch (ev.type) {
      case 'reasoning_delta': {
        if (this.settings.hideReasoning) return;
        const o = this.openItem('reasoning');
        o.text += ev.delta;
        this.emit('response.reasoning_text.delta', {
          item_id: o.item.id,
          output_index: o.index,
          content_index: 0,
          delta: ev.delta,
        });
        return;
      }
      case 'preamble_delta':
        this.textDelta('commentary', ev.delta);
        return;
      case 'final_delta':
        this.textDelta('final_answer', ev.delta);
        return;
      case 'turn_outcome':
        this.close();
        return;
      case 'tool_call_started': {
        // A call made while reasoning is reasoning: hidden with it (its arguments and output never shown).
        if (this.settings.hideReasoning && ev.internal) return;
        this.close();
        const item = callItem(ev.recipient, ev.arguments, this.session);
        const index = this.output.length;
        this.output.push(item);
        this.running.set(ev.callId, { index, item });
        this.emit('response.output_item.added', { output_index: index, item: structuredClone(item) });
        for (const name of PROGRESS[item.type as string]?.start ?? []) {
          this.emit(name, { output_index: index, item_id: item.id });
        }
        if (item.type === 'code_interpreter_call') {
          const base = { output_index: index, item_id: item.id };
          this.emit('response.code_interpreter_call_code.delta', { ...base, delta: ev.arguments });
          this.emit('response.code_interpreter_call_code.done', { ...base, code: ev.arguments });
          this.emit('response.code_interpreter_call.interpreting', base);
        }
        return;
      }
      case 'tool_call_finished': {
        const r = this.running.get(ev.callId);
        if (!r) return;
        this.running.delete(ev.callId);
        const { item, index } = r;
        const failed = ev.error !== undefined;
        if (item.type === 'code_interpreter_call') {
          item.outputs = [{ type: 'logs', logs: ev.output }];
          item.status = failed ? 'failed' : 'completed';
        } else if (item.type === 'mcp_call') {
          item.output = failed ? null : ev.output;
          item.error = failed ? (ev.error ?? null) : null;
          item.status = failed ? 'failed' : 'completed';
        } else {
          item.status = failed ? 'failed' : 'completed';
        }
        const done = PROGRESS[item.type as string]?.done;
        if (done)
          this.emit(failed && item.type === 'mcp_call' ? 'response.mcp_call.failed' : done, {
            output_index: index,
            item_id: item.id,
          });
        this.emit('response.output_item.done', { output_index: index, item: structuredClone(item) });
        return;
      }
      default:
        return;
    }
  }

  /** Adds the calls the client must answer. */
  private functionCalls(calls: readonly PendingCall[]): void {
    this.close();
    for (const c of calls) {
      const index = this.output.length;
      const callId = newId('call');
      const name = c.recipient.startsWith('functions.')
        ? c.recipient.slice('functions.'.length)
        : c.recipient;
      this.pendingCalls[callId] = { recipient: c.recipient, channel: c.channel };
      const item: Item = {
        id: newId('fc'),
        type: 'function_call',
        status: 'in_progress',
        name,
        call_id: callId,
        arguments: '',
      };
      this.output.push(item);
      this.emit('response.output_item.added', { output_index: index, item: structuredClone(item) });
      const base = { item_id: item.id, output_index: index };
      this.emit('response.function_call_arguments.delta', { ...base, delta: c.arguments });
      this.emit('response.function_call_arguments.done', { ...base, name, arguments: c.arguments });
      item.arguments = c.arguments;
      item.status = 'completed';
      this.emit('response.output_item.done', { output_index: index, item: structuredClone(item) });
    }
  }

  /** Ends a finished run: the answer shown is the result's (a guardrail's reply replaces a refused answer). */
  finish(result: RunResult): Item {
    const o = this.open;
    if (o?.kind === 'message' && o.phase === 'final_answer') {
      if (result.finalText !== o.text) {
        o.text = result.finalText;
      }
      this.close();
    } else {
      this.close();
      const shown = this.output.some((i) => i.type === 'message' && i.phase === 'final_answer');
      if (!shown && result.finalText) {
        this.textDelta('final_answer', result.finalText);
        this.close();
      }
    }
    if (result.pendingCalls?.length) this.functionCalls(result.pendingCalls);
    const u = result.usage;
    const response = this.response('completed', {
      usage: {
        input_tokens: u.promptTokens,
        input_tokens_details: { cached_tokens: u.cachedPromptTokens },
        output_tokens: u.completionTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: u.promptTokens + u.completionTokens,
      },
    });
    this.emit('response.completed', { response });
    return response;
  }

  fail(err: ApiError): Item {
    this.close();
    const response = this.response('failed', {
      error: { code: err.code ?? 'server_error', message: err.message },
    });
    this.emit('response.failed', { response });
    return response;
  }
}

/**
 * Runs one Responses request. `sink` receives SSE events when streaming. Resolves to the final response
 * object; throws (before any event) only for invalid requests.
 */
export async function runResponse(
  req: ResponsesRequest,
  settings: AgentSettings,
  store: ResponseStore,
  signal: AbortSignal,
  sink: Emit | undefined,
): Promise<{ response: Item; error?: ApiError }> {
  const id = newId('resp');
  const session = req.previous?.meta.session ?? id;
  const effort = req.effort ?? armFor(settings.arms, req.model)?.effort ?? settings.effort;
  const agent = requestAgent(settings, {
    model: req.model,
    instructions: req.instructions,
    functions: req.functions,
    effort,
    session,
    toolChoiceNone: req.toolChoice === 'none',
    maxTokens: req.maxOutputTokens,
    temperature: req.temperature,
    topP: req.topP,
  });
  if (req.previous) await agent.store.append(id, req.previous.messages);
  const builder = new ResponseBuilder(id, req, settings, session, effort, sink);
  builder.start();
  let result: RunResult | undefined;
  try {
    for await (const ev of runStream(
      agent,
      { messages: req.input },
      { conversationId: id, includeReasoning: !settings.hideReasoning, signal },
    )) {
      if (ev.type === 'done') result = ev.result;
      else builder.event(ev);
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const apiErr = new ApiError(500, e.message, 'server_error', null, e.name || 'error');
    return { response: builder.fail(apiErr), error: apiErr };
  }
  if (!result) {
    const apiErr = new ApiError(500, 'the run ended without a result', 'server_error');
    return { response: builder.fail(apiErr), error: apiErr };
  }
  const response = builder.finish(result);
  if (req.store) {
    const rec = await agent.store.load(id);
    await store.save(
      {
        id,
        response,
        calls: { ...req.calls, ...builder.pendingCalls },
        session,
      },
      rec?.messages ?? [],
    );
  }
  return { response };
}
