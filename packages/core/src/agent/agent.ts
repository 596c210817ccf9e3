import type { Backend, BackendChooser } from '../backend/types.js';
import { defineNamespace, type FunctionTool, isFunctionTool } from '../functions/define.js';
import { type AnyZodSchema, toJsonSchema } from '../functions/schema.js';
import { renderResponseFormats } from '../harmony/api.js';
import type { JsonSchema, ReasoningEffort } from '../harmony/types.js';
import { McpNamespace, type McpServerConfig } from '../mcp/client.js';
import { endConversationFunction } from '../safety/end-conversation.js';
import type { InputGuardrail, OutputGuardrail } from '../safety/guardrails.js';
import type { ReasoningMonitor } from '../safety/monitor.js';
import { type ConversationStore, InMemoryConversationStore } from '../store/store.js';
import type { ToolNamespace } from '../tools/types.js';
import { type CallLimits, DEFAULT_CALL_LIMITS } from './dispatch.js';
import { AgentConfigError } from './errors.js';
import type { GuardStreaming } from './output-gate.js';
import { PromptRenderer } from './prompt.js';

export interface SamplingSettings {
  temperature?: number;
  topP?: number;
  /** Per model call. */
  maxTokens?: number;
  seed?: number;
}

export interface AgentOptions<TOutput = unknown> {
  name?: string;
  /** Rendered as the developer message's instructions. */
  instructions?: string;
  /** Developer functions (grouped into the `functions` namespace) and tool namespaces (`faq`, `browser`, `python`). */
  tools?: readonly (FunctionTool | ToolNamespace)[];
  /**
   * MCP servers whose tools the agent may call (on any channel, during reasoning too): each becomes the
   * namespace `NAME`, connected on the first run. `dispose()` the agent's namespaces to close them.
   */
  mcp?: readonly (McpServerConfig | McpNamespace)[];
  /** A fixed backend, or a chooser asked per turn (and again, with the trouble, when a turn is retried). */
  backend: Backend | BackendChooser;
  /** Default `medium`; a chooser's decision overrides it. */
  effort?: ReasoningEffort;
  /** System message identity line; default the Harmony default ("You are ChatGPT, ..."). */
  modelIdentity?: string;
  /** Default `2024-06`. */
  knowledgeCutoff?: string;
  /** `YYYY-MM-DD`, a function giving it, or `null` to leave it out. Default: today (UTC). */
  currentDate?: string | null | (() => string);
  sampling?: SamplingSettings;
  /** Model calls per run, retries included. Default 10. */
  maxModelCalls?: number;
  /**
   * Older name of `maxModelCalls` (it always counted model calls, not conversation turns); used when
   * `maxModelCalls` is not set.
   */
  maxTurns?: number;
  /** How often one identical call (same recipient and arguments) may run per run. Default 2. */
  maxIdenticalCalls?: number;
  /**
   * Time one tool call may take before the runtime aborts its signal, stops waiting and tells the model
   * (developer functions included). Default 60 000 ms; a namespace's own `callTimeoutMs` wins (python, browser).
   */
  toolTimeoutMs?: number;
  /** Characters of one tool answer the model reads; longer answers are cut with a note. Default 100 000. */
  maxToolOutputChars?: number;
  /** Retries per run for empty, truncated or reasoning-only turns. Default 2. */
  maxRetries?: number;
  guardrails?: { input?: readonly InputGuardrail[]; output?: readonly OutputGuardrail[] };
  /**
   * When final text reaches the stream while output guardrails are set. Default `sentence`: a sentence at a time,
   * each only after the output guardrails passed on the whole answer so far (see `GuardStreaming`).
   */
  guardStreaming?: GuardStreaming;
  monitor?: ReasoningMonitor;
  /** Assistant replies per conversation; the next message closes it with a reason. */
  replyCap?: number;
  /** Adds `functions.end_conversation({reason})` so the agent can close a conversation it judges unreasonable. */
  allowEndConversation?: boolean;
  /** Where conversations live; default in-memory, per agent. */
  store?: ConversationStore;
  /** Shown when the monitor stops a turn. Default: a short refusal. */
  stoppedReply?: string;
  /**
   * Structured output: the final answer must be JSON matching this schema. It is described under
   * `# Response Formats` in the developer message (tools keep working), validated with the same schema, and
   * re-asked (within `maxRetries`) with the problems when it does not match; servers never enforce it for gpt-oss.
   */
  output?: OutputFormat<TOutput>;
}

export interface OutputFormat<TOutput = unknown> {
  /** Format name shown to the model (letters, digits, `_`). Default `answer`. */
  name?: string;
  description?: string;
  /** A zod 3 or 4 schema; `RunResult.output` gets its type. */
  schema: AnyZodSchema & { _output?: TOutput };
}

export const isChooser = (b: Backend | BackendChooser): b is BackendChooser =>
  typeof (b as BackendChooser).choose === 'function';

/**
 * An agent: instructions, tools, backend and limits. Immutable once built; `run(agent, input)` drives it.
 */
export class Agent<TOutput = unknown> {
  readonly name: string;
  readonly instructions: string | undefined;
  readonly backend: Backend | BackendChooser;
  readonly effort: ReasoningEffort;
  readonly namespaces: ReadonlyMap<string, ToolNamespace>;
  readonly store: ConversationStore;
  readonly options: Readonly<AgentOptions<TOutput>>;
  /** Model calls per run, retries included. */
  readonly maxModelCalls: number;
  /** The option name the limit was set with (error messages name what the developer wrote). */
  readonly maxModelCallsOption: 'maxModelCalls' | 'maxTurns';
  readonly maxIdenticalCalls: number;
  readonly callLimits: CallLimits;
  readonly maxRetries: number;
  /** Renders prompts incrementally (internal; shared by the runs of this agent). */
  readonly prompts = new PromptRenderer();
  /** The output schema as JSON Schema, when `output` is set. */
  readonly outputJsonSchema: JsonSchema | undefined;

  constructor(options: AgentOptions<TOutput>) {
    if (!options.backend) throw new AgentConfigError('Agent needs a backend (or a BackendChooser)');
    this.options = options;
    this.name = options.name ?? 'agent';
    this.instructions = options.instructions;
    this.backend = options.backend;
    this.effort = options.effort ?? 'medium';
    this.store = options.store ?? new InMemoryConversationStore();
    this.maxModelCalls = options.maxModelCalls ?? options.maxTurns ?? 10;
    this.maxModelCallsOption =
      options.maxModelCalls === undefined && options.maxTurns !== undefined ? 'maxTurns' : 'maxModelCalls';
    this.maxIdenticalCalls = options.maxIdenticalCalls ?? 2;
    this.callLimits = {
      timeoutMs: options.toolTimeoutMs ?? DEFAULT_CALL_LIMITS.timeoutMs,
      maxOutputChars: options.maxToolOutputChars ?? DEFAULT_CALL_LIMITS.maxOutputChars,
    };
    for (const [k, v] of [
      ['toolTimeoutMs', this.callLimits.timeoutMs],
      ['maxToolOutputChars', this.callLimits.maxOutputChars],
    ] as const) {
      if (!Number.isFinite(v) || v <= 0)
        throw new AgentConfigError(`${k} must be a positive number, got ${v}`);
    }
    this.maxRetries = options.maxRetries ?? 2;
    this.outputJsonSchema = options.output ? toJsonSchema(options.output.schema) : undefined;

    const fns: FunctionTool[] = [];
    const namespaces = new Map<string, ToolNamespace>();
    for (const t of options.tools ?? []) {
      if (isFunctionTool(t)) fns.push(t);
      else {
        if (namespaces.has(t.name))
          throw new AgentConfigError(`Tool namespace '${t.name}' is registered twice`);
        namespaces.set(t.name, t);
      }
    }
    for (const m of options.mcp ?? []) {
      const ns = m instanceof McpNamespace ? m : new McpNamespace(m);
      if (namespaces.has(ns.name))
        throw new AgentConfigError(`Tool namespace '${ns.name}' is registered twice`);
      namespaces.set(ns.name, ns);
    }
    if (options.allowEndConversation) fns.push(endConversationFunction());
    if (fns.length) {
      if (namespaces.has('functions')) {
        throw new AgentConfigError(
          "Pass developer functions either loose or as a 'functions' namespace, not both",
        );
      }
      namespaces.set('functions', defineNamespace({ name: 'functions', functions: fns }));
    }
    this.namespaces = namespaces;
  }

  /** Older name of `maxModelCalls`. */
  get maxTurns(): number {
    return this.maxModelCalls;
  }

  /** Developer instructions as rendered: the agent's, then `# Response Formats` when `output` is set. */
  renderedInstructions(): string | undefined {
    const o = this.options.output;
    if (!o || !this.outputJsonSchema) return this.instructions;
    const fmt = renderResponseFormats([
      {
        name: o.name ?? 'answer',
        ...(o.description ? { description: o.description } : {}),
        schema: this.outputJsonSchema,
      },
    ]);
    return this.instructions ? `${this.instructions}\n\n${fmt}` : fmt;
  }

  /** The date for the system message of a call made now. */
  currentDate(): string | null {
    const d = this.options.currentDate;
    if (d === null) return null;
    if (typeof d === 'function') return d();
    return d ?? new Date().toISOString().slice(0, 10);
  }
}
