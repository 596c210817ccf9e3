import { messageText } from '../harmony/api.js';
import type { Message } from '../harmony/types.js';
import { END_CONVERSATION_META } from '../safety/end-conversation.js';
import { ToolCallError, type ToolContext, type ToolNamespace, type ToolOutput } from '../tools/types.js';
import { frameToolOutput } from '../tools/untrusted.js';
import { ToolLoopError } from './errors.js';

/** A recipient the model may address: `ns`, `ns.fn` with word characters (anything else is junk from a bad header). */
const RECIPIENT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export interface ResolvedCall {
  namespace: ToolNamespace;
  fn: string | undefined;
}

/**
 * Finds the namespace for a recipient. Also accepts the aliases the reference server accepts:
 * `functions.python` → `python` and `functions.browser.search` → `browser.search`, when the developer defined
 * no such function. Unknown or malformed recipients throw `ToolCallError` listing what exists.
 */
export function resolveRecipient(
  recipient: string,
  namespaces: ReadonlyMap<string, ToolNamespace>,
): ResolvedCall {
  const known = () => listTools(namespaces);
  if (!RECIPIENT.test(recipient)) {
    throw new ToolCallError(
      `'${recipient.slice(0, 80)}' is not a valid tool name. Address a tool as namespace.function, one of: ${known()}.`,
    );
  }
  const dot = recipient.indexOf('.');
  let ns = dot < 0 ? recipient : recipient.slice(0, dot);
  let fn = dot < 0 ? undefined : recipient.slice(dot + 1);
  if (ns === 'functions' && fn !== undefined) {
    const own =
      namespaces
        .get('functions')
        ?.config()
        .tools.some((t) => t.name === fn) ?? false;
    const [alias = '', ...rest] = fn.split('.');
    if (!own && alias !== 'functions' && namespaces.has(alias)) {
      ns = alias;
      fn = rest.length ? rest.join('.') : undefined;
    }
  }
  const namespace = namespaces.get(ns);
  if (!namespace) throw new ToolCallError(`Unknown tool '${recipient}'. Available tools: ${known()}.`);
  return { namespace, fn };
}

export function listTools(namespaces: ReadonlyMap<string, ToolNamespace>): string {
  const names: string[] = [];
  for (const ns of namespaces.values()) {
    const tools = ns.config().tools;
    if (tools.length === 0) names.push(ns.name);
    for (const t of tools) names.push(`${ns.name}.${t.name}`);
  }
  return names.length ? names.join(', ') : '(no tools are available; answer directly)';
}

/** Counts identical calls per run (doom-loop guard, frameworks.md §2 F23). */
export class RepeatGuard {
  private readonly counts = new Map<string, number>();
  constructor(private readonly max: number) {}

  private key(recipient: string, args: string): string {
    let norm = args.trim();
    try {
      norm = JSON.stringify(JSON.parse(norm));
    } catch {
      // not JSON (python code): compare trimmed text
    }
    return `${recipient}\n${norm}`;
  }

  /** `run`: execute; `refuse`: tell the model to stop; throws when a refused call is repeated again. */
  check(recipient: string, args: string): 'run' | 'refuse' {
    const k = this.key(recipient, args);
    const n = (this.counts.get(k) ?? 0) + 1;
    this.counts.set(k, n);
    if (n <= this.max) return 'run';
    if (n === this.max + 1) return 'refuse';
    throw new ToolLoopError(recipient, n);
  }
}

export interface CallOutcome {
  message: Message;
  output: ToolOutput;
  error?: string;
  endConversation?: string;
}

/** The tool message answering a call: from the recipient, back to the assistant, on the call's channel. */
export function toolMessage(call: Message, text: string): Message {
  return {
    role: 'tool',
    name: call.recipient ?? null,
    recipient: 'assistant',
    channel: call.channel ?? 'commentary',
    content: [{ type: 'text', text }],
  };
}

const errorText = (message: string) => JSON.stringify({ error: message });

/** Per-call limits the runtime applies to every tool, developer functions included. */
export interface CallLimits {
  /** Default time for one call when its namespace sets no `callTimeoutMs`. */
  timeoutMs: number;
  /** Characters of one tool answer the model reads; the rest is cut with a note saying so. */
  maxOutputChars: number;
}

/** 60 s per call, 100 000 characters per answer. */
export const DEFAULT_CALL_LIMITS: CallLimits = { timeoutMs: 60_000, maxOutputChars: 100_000 };

class CallTimeoutError extends Error {
  override name = 'CallTimeoutError';
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/**
 * Runs the namespace's call under its own signal, aborted when the run is aborted or the time is up. The runtime
 * stops waiting at that moment even if the tool ignores its signal (a function that never returns).
 */
async function callWithin(
  namespace: ToolNamespace,
  fn: string | undefined,
  args: string,
  ctx: ToolContext,
  timeoutMs: number,
): Promise<ToolOutput> {
  const run = ctx.signal;
  if (run.aborted) throw run.reason ?? new Error('aborted');
  const own = new AbortController();
  const onRunAbort = () => own.abort(run.reason);
  run.addEventListener('abort', onRunAbort, { once: true });
  const timer = setTimeout(() => own.abort(new CallTimeoutError(timeoutMs)), timeoutMs);
  const stopped = new Promise<never>((_, reject) => {
    own.signal.addEventListener('abort', () => reject(own.signal.reason), { once: true });
  });
  stopped.catch(() => {});
  const answer = Promise.resolve().then(() => namespace.call(fn, args, { ...ctx, signal: own.signal }));
  answer.catch(() => {}); // a call abandoned at its deadline may still fail later: nobody is listening
  try {
    return await Promise.race([answer, stopped]);
  } finally {
    clearTimeout(timer);
    run.removeEventListener('abort', onRunAbort);
  }
}

/** Cuts an answer longer than `max` characters, keeping its head and tail, with a note to the model. */
export function capOutput(output: ToolOutput, max: number): ToolOutput {
  const text = output.text;
  if (text.length <= max) return output;
  const head = text.slice(0, Math.floor((max * 2) / 3));
  const tail = text.slice(text.length - (max - head.length));
  const note = `\n[... output truncated: the tool returned ${text.length} characters; ${text.length - head.length - tail.length} in the middle were left out ...]\n`;
  return { ...output, text: head + note + tail, meta: { ...output.meta, truncatedFromChars: text.length } };
}

const duration = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

/** Runs one call. Problems the model can fix come back to it as the tool's answer; nothing is dropped. */
export async function executeCall(
  call: Message,
  namespaces: ReadonlyMap<string, ToolNamespace>,
  guard: RepeatGuard,
  ctx: { conversationId: string; signal: AbortSignal; limits?: CallLimits },
): Promise<CallOutcome> {
  const limits = ctx.limits ?? DEFAULT_CALL_LIMITS;
  const recipient = call.recipient ?? '';
  const args = messageText(call);
  const fail = (msg: string): CallOutcome => {
    const output = { text: errorText(msg) };
    return { message: toolMessage(call, output.text), output, error: msg };
  };
  try {
    const { namespace, fn } = resolveRecipient(recipient, namespaces);
    if (!namespace.stateful && guard.check(recipient, args) === 'refuse') {
      return fail(
        `You already called ${recipient} with these exact arguments; the answer will not change. Use the earlier result, change the arguments, or answer the user.`,
      );
    }
    const timeoutMs = namespace.callTimeoutMs ?? limits.timeoutMs;
    const output = capOutput(
      await callWithin(
        namespace,
        fn,
        args,
        { conversationId: ctx.conversationId, signal: ctx.signal, channel: call.channel ?? 'commentary' },
        timeoutMs,
      ),
      limits.maxOutputChars,
    );
    const end = output.meta?.[END_CONVERSATION_META];
    // Content from outside reaches the model framed as quoted data (once: a wrapper may have framed it already).
    const framed =
      namespace.untrusted && output.meta?.untrusted !== true ? frameToolOutput(output) : undefined;
    return {
      message: toolMessage(call, framed?.text ?? output.text),
      output: framed ? { ...output, meta: framed.meta } : output,
      ...(typeof end === 'string' ? { endConversation: end } : {}),
    };
  } catch (err) {
    if (err instanceof ToolLoopError) throw err;
    if (err instanceof ToolCallError) return fail(err.message);
    if (ctx.signal.aborted) throw err;
    if (err instanceof CallTimeoutError) {
      return fail(
        `The tool ${recipient} did not answer within ${duration(err.ms)} and was stopped. Try a smaller request, or answer without it.`,
      );
    }
    // A bug in a tool: the model is told it failed (it may try another way); the event carries the error.
    return fail(`The tool ${recipient} failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** Whether a call goes to a namespace the caller of `run` answers (`external`). */
export function isExternalCall(call: Message, namespaces: ReadonlyMap<string, ToolNamespace>): boolean {
  try {
    return resolveRecipient(call.recipient ?? '', namespaces).namespace.external === true;
  } catch {
    return false;
  }
}
