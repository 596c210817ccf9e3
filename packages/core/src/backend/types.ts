import type { Message, ReasoningEffort, ToolNamespaceConfig } from '../harmony/types.js';

/**
 * Inference backends. Like vercel/ai's model interface, a backend is two methods: `generate` (whole result)
 * and `stream` (incremental). Two families exist:
 *  - token level: Harmony-rendered prompt token ids in, sampled token ids out (vLLM/llama.cpp `/v1/completions`,
 *    Ollama raw mode, the native engine, ScriptedBackend);
 *  - message level: for servers that apply Harmony themselves (Chat Completions, Responses API).
 */

export interface SamplingOptions {
  /** Sampling stops right after emitting one of these ids (it is included in the output). */
  stop: number[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  signal?: AbortSignal;
}

export interface TokenRequest extends SamplingOptions {
  prompt: number[];
}

export type FinishReason = 'stop' | 'length' | 'abort' | 'error';

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens the backend reused from its cache, when it reports them. */
  cachedPromptTokens?: number;
}

export interface TokenResult {
  tokens: number[];
  finishReason: FinishReason;
  usage: TokenUsage;
}

export type TokenChunk =
  | { type: 'tokens'; tokens: number[] }
  | { type: 'finish'; finishReason: FinishReason; usage: TokenUsage };

export interface TokenBackend {
  readonly kind: 'tokens';
  /** Human-readable id, e.g. `vllm:http://127.0.0.1:8000 gpt-oss-20b` or `native:/models/gpt-oss-20b`. */
  readonly id: string;
  generate(request: TokenRequest): Promise<TokenResult>;
  stream(request: TokenRequest): AsyncIterable<TokenChunk>;
}

/** Which model a routing decision picked. */
export type ModelSize = '20b' | '120b';

/** What a backend chooser decides for one model call. */
export interface RoutingDecision {
  model: ModelSize;
  effort: ReasoningEffort;
  /** Why: e.g. `classifier p(120b)=0.81 >= 0.62`, `sticky`, `escalated after truncated turn`. */
  reason: string;
  scores?: Record<string, number>;
  /** The decided arm, e.g. `120b-medium`. */
  arm?: string;
  /** The configured arm (or model) whose backend serves it, e.g. `120b` or `120b-high`. */
  served?: string;
}

/** What went wrong on the previous attempt, when the runtime asks the chooser to escalate. */
export type TurnTrouble = 'empty' | 'truncated' | 'reasoning_only' | 'monitor_flagged' | 'tool_loop';

export interface ChooseContext {
  conversationId: string;
  /** The user message that started this turn. */
  input: string;
  /** The conversation so far (Harmony messages, oldest first). */
  history: readonly Message[];
  /** Set when the runtime retries a turn that went wrong. */
  trouble?: TurnTrouble;
}

/** Picks the backend (and effort) per turn; `Agent` accepts one instead of a fixed backend. */
export interface BackendChooser {
  choose(ctx: ChooseContext): Promise<{ decision: RoutingDecision; backend: TokenBackend | MessageBackend }>;
}

/**
 * Message-level backends: for servers that apply Harmony themselves (Chat Completions, Responses API). The
 * runtime still keeps the transcript as Harmony messages; the adapter maps them to the server's wire format
 * and maps the answer back (reasoning → `analysis`, tool calls → messages with a recipient, text → `final`).
 */
export interface MessageRequest {
  /** The conversation as Harmony messages: system, developer, then history (reasoning already filtered). */
  messages: readonly Message[];
  /** Every tool namespace the model may call (system and developer placement alike). */
  tools: readonly ToolNamespaceConfig[];
  effort: ReasoningEffort;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  signal?: AbortSignal;
}

export interface MessageResult {
  /** The answer as Harmony assistant messages, in order. */
  messages: Message[];
  finishReason: FinishReason;
  usage: TokenUsage;
}

export type MessageChunk =
  /** Text as it arrives: `analysis` = reasoning, `final` = answer, `commentary` = preamble. */
  | { type: 'delta'; channel: 'analysis' | 'commentary' | 'final'; delta: string }
  | { type: 'done'; result: MessageResult };

export interface MessageBackend {
  readonly kind: 'messages';
  readonly id: string;
  generate(request: MessageRequest): Promise<MessageResult>;
  stream(request: MessageRequest): AsyncIterable<MessageChunk>;
}

export type Backend = TokenBackend | MessageBackend;
