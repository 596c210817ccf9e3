/**
 * The tool step: runs the calls of one model call (concurrently; answers in call order) and returns the tool
 * messages for the loop to add. It changes no run state itself.
 */
import { messageText } from '../harmony/api.js';
import type { Message } from '../harmony/types.js';
import type { ToolNamespace } from '../tools/types.js';
import {
  type CallLimits,
  executeCall,
  isExternalCall,
  type RepeatGuard,
  resolveRecipient,
} from './dispatch.js';
import { RunAbortedError } from './errors.js';
import type { PendingCall } from './result.js';
import type { LoopEvent } from './run-options.js';
import { endSpan, type Span, startChildSpan } from './tracing.js';

export interface ToolStepResult {
  /** The tool messages answering the calls, in call order. */
  messages: Message[];
  /** Calls to `external` namespaces: the caller of `run` answers them. */
  pendingCalls: PendingCall[];
  /** Set when a tool asked to end the conversation (the first such reason). */
  closeReason?: string;
}

/**
 * Whether a call is hidden from users: only a call on the commentary channel to a tool that exists is a step to
 * show. A call on the analysis channel is part of the model's reasoning; one without a channel or to no known
 * tool is junk from a broken output (its arguments may be reasoning).
 */
export function isInternalCall(call: Message, namespaces: ReadonlyMap<string, ToolNamespace>): boolean {
  if (call.channel !== 'commentary') return true;
  try {
    const { namespace, fn } = resolveRecipient(call.recipient ?? '', namespaces);
    const tools = namespace.config().tools;
    return fn !== undefined && tools.length > 0 && !tools.some((t) => t.name === fn);
  } catch {
    return true;
  }
}

export async function* runToolStep(
  calls: readonly Message[],
  turn: number,
  ctx: {
    namespaces: ReadonlyMap<string, ToolNamespace>;
    guard: RepeatGuard;
    conversationId: string;
    signal: AbortSignal;
    /** The conversation was already closed earlier in this run (no second `conversation_closed`). */
    closed: boolean;
    /** Per-call time and answer-size limits (default 60 s, 100 000 characters). */
    limits?: CallLimits;
    /** The run's trace span: each call becomes a `harmonia.tool_call` child. */
    span?: Span;
  },
): AsyncGenerator<LoopEvent, ToolStepResult> {
  // Calls to `external` namespaces are not run here: they come back as pending calls, in order.
  const external = calls.filter((c) => isExternalCall(c, ctx.namespaces));
  const pendingCalls = external.map((c) => ({
    recipient: c.recipient ?? '',
    arguments: messageText(c),
    channel: c.channel ?? 'commentary',
  }));
  const started = calls
    .filter((c) => !external.includes(c))
    .map((call, i) => ({
      call,
      callId: `${turn}.${i}`,
      internal: isInternalCall(call, ctx.namespaces),
      t0: performance.now(),
    }));
  for (const s of started) {
    yield {
      type: 'tool_call_started',
      turn,
      callId: s.callId,
      recipient: s.call.recipient ?? '',
      channel: s.call.channel ?? 'commentary',
      arguments: messageText(s.call),
      internal: s.internal,
    };
  }
  const callCtx = { conversationId: ctx.conversationId, signal: ctx.signal, limits: ctx.limits };
  const settled = await Promise.allSettled(
    started.map(async (s) => {
      const span = startChildSpan(ctx.span, 'harmonia.tool_call', {
        'harmonia.tool': s.call.recipient ?? '',
        'harmonia.call_id': s.callId,
      });
      try {
        const o = await executeCall(s.call, ctx.namespaces, ctx.guard, callCtx);
        if (o.error !== undefined) span.setAttribute('harmonia.tool_error', String(o.error));
        endSpan(span);
        // Whole tenths of a millisecond: a duration, not a float artefact (1.5607670000000553).
        return { ...o, durationMs: Math.round((performance.now() - s.t0) * 10) / 10 };
      } catch (err) {
        endSpan(span, err);
        throw err;
      }
    }),
  );
  for (const r of settled) {
    if (r.status === 'rejected') throw ctx.signal.aborted ? new RunAbortedError() : r.reason;
  }
  const result: ToolStepResult = { messages: [], pendingCalls };
  for (const [i, r] of settled.entries()) {
    if (r.status !== 'fulfilled') continue;
    const s = started[i]!;
    const o = r.value;
    result.messages.push(o.message);
    yield {
      type: 'tool_call_finished',
      turn,
      callId: s.callId,
      recipient: s.call.recipient ?? '',
      output: o.output.text,
      ...(o.error !== undefined ? { error: o.error } : {}),
      durationMs: o.durationMs,
      internal: s.internal,
    };
    if (o.endConversation !== undefined && result.closeReason === undefined && !ctx.closed) {
      result.closeReason = o.endConversation;
      yield { type: 'conversation_closed', reason: o.endConversation };
    }
  }
  return result;
}
