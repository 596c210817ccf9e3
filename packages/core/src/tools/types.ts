import type { ToolNamespaceConfig } from '../harmony/types.js';

/**
 * A tool namespace as the agent runtime sees it: `functions` (developer functions), `browser`, `python`,
 * or any custom namespace such as `faq`. The runtime dispatches a model message by its recipient:
 * `browser.search` → namespace `browser`, function `search`; `python` → namespace `python`, function undefined.
 */
export interface ToolNamespace {
  readonly name: string;
  /**
   * Where the namespace is described: built-in tools (browser, python) go in the system message as the model
   * was trained; developer functions and custom namespaces go in the developer message.
   */
  readonly placement: 'system' | 'developer';
  /**
   * Calls change state (a stateful python kernel), so an identical call may answer differently: the runtime's
   * identical-call guard does not apply; `maxTurns` still bounds a loop.
   */
  readonly stateful?: boolean;
  /**
   * Calls are answered by whoever called `run` (an HTTP client's own function tools): the run ends with status
   * `tool_calls` and the calls in `pendingCalls`; the caller continues it with the tool messages as input.
   * `call` is never invoked.
   */
  readonly external?: boolean;
  /**
   * Answers carry content from outside (web pages, program output): the runtime frames the tool message the model
   * reads as quoted data between markers with a random nonce, special-token text defused, and a warning when the
   * text looks like an injection. Events and the call's output keep the tool's own text (`meta.untrusted` set).
   * The built-in browser and python tools set it.
   */
  readonly untrusted?: boolean;
  /**
   * How long one call may run before the runtime stops waiting, aborts the call's signal and tells the model
   * (default: the agent's `toolTimeoutMs`, 60 s). Tools with limits of their own set this a little above them.
   */
  readonly callTimeoutMs?: number;
  /** The description rendered into the prompt. */
  config(): ToolNamespaceConfig;
  /**
   * Called before each run's first model call: connect, list tools (an MCP server). Failing here fails the run
   * with the error (a tool that cannot start is a configuration problem, not something the model can fix).
   */
  prepare?(signal: AbortSignal): Promise<void>;
  /**
   * Runs one call. `args` is the raw message text the model wrote (JSON for functions and browser, code for
   * python). Throw `ToolCallError` for problems the model can fix (bad arguments, unknown function): the
   * runtime returns its message to the model as the tool's answer.
   */
  call(fn: string | undefined, args: string, ctx: ToolContext): Promise<ToolOutput>;
  /** Frees per-conversation state (browser context, python container). */
  disposeConversation?(conversationId: string): Promise<void>;
  /** Frees everything (the shared browser, all containers). */
  dispose?(): Promise<void>;
}

export interface ToolContext {
  conversationId: string;
  signal: AbortSignal;
  /** The channel the call came on (`analysis` or `commentary`); the result goes back on the same one. */
  channel: string;
}

export interface ToolOutput {
  /** The tool message text the model will read. */
  text: string;
  /** Data for the developer (citations, files, timings); never shown to the model. */
  meta?: Record<string, unknown>;
}

/** A tool problem the model can fix: returned to the model as the tool's answer, never thrown to the user. */
export class ToolCallError extends Error {
  override name = 'ToolCallError';
}
