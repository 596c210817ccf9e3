/**
 * The leak invariant, in one place. Whatever the model emits:
 *  1. only text of `final` and `commentary` messages without a recipient is user-facing (`final_delta`,
 *     `preamble_delta`, the final text); analysis, a missing or unknown channel, and call arguments are not;
 *  2. a recipient is a tool call only when it looks like `namespace.name` or names a known tool; anything else
 *     (a channel name, junk from a broken header) is reasoning;
 *  3. one model call either answers or calls tools, never both, so a run gives at most one answer;
 *  4. an answer never opens with a verbatim copy of the call's whole reasoning.
 * The token adapter and the model-call gate both decide with these functions.
 */
import { isToolCall, messageText, trimJsonArguments } from '../harmony/api.js';
import type { Message } from '../harmony/types.js';
import type { ToolNamespace } from '../tools/types.js';

const NAMESPACED = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;
const isAnswer = (m: Message) => m.role === 'assistant' && m.channel === 'final' && !m.recipient;

/** Whether `recipient` may be a tool call: `namespace.name`-shaped, or the name of a known namespace or function. */
export type RecipientCheck = (recipient: string) => boolean;

export function recipientCheck(namespaces: ReadonlyMap<string, ToolNamespace>): RecipientCheck {
  let known: Set<string> | undefined;
  return (r) => {
    if (NAMESPACED.test(r)) return true;
    if (!known) {
      known = new Set(namespaces.keys());
      for (const ns of namespaces.values()) for (const t of ns.config().tools) known.add(t.name);
    }
    return known.has(r);
  };
}

/** What a message's text is to users: the answer, a preamble, or nothing (reasoning, call arguments). */
export function visibleAs(
  channel: string | null,
  recipient: string | null,
  isTool: RecipientCheck,
): 'final' | 'commentary' | 'analysis' | 'call' {
  if (recipient && recipient !== 'all' && recipient !== 'assistant')
    return isTool(recipient) ? 'call' : 'analysis';
  if (channel === 'final' || channel === 'commentary') return channel;
  return 'analysis';
}

export interface Repair {
  kind: string;
  detail: string;
}

/**
 * The messages of one model call as the run keeps them: recipients that are no tool become reasoning; JSON
 * arguments followed by garbage end at their JSON value; and the call either answers or calls tools — when answer
 * text was shown its calls are dropped, otherwise answer text next to calls is.
 */
export function settleTurn(
  messages: readonly Message[],
  answered: boolean,
  isTool: RecipientCheck,
  reasoning = '',
): { messages: Message[]; repairs: Repair[] } {
  const repairs: Repair[] = [];
  let out = messages.map((m) => {
    if (!isToolCall(m)) return m;
    const recipient = m.recipient as string;
    if (!isTool(recipient)) {
      repairs.push({
        kind: 'not_a_recipient',
        detail: `'${recipient.slice(0, 60)}' is no tool; its message was kept as reasoning`,
      });
      return { ...m, recipient: null, channel: 'analysis', content_type: null };
    }
    const trimmed = trimJsonArguments(messageText(m));
    if (trimmed === undefined) return m;
    repairs.push({ kind: 'json_garbage', detail: `dropped text after the JSON arguments of ${recipient}` });
    return { ...m, content: [{ type: 'text' as const, text: trimmed }] };
  });
  // One answer per call: answer text split over several final messages (a header lost mid-answer) is one message.
  const finals = out.filter(isAnswer);
  if (finals.length > 1) {
    const text = finals.map(messageText).join('');
    repairs.push({ kind: 'answer_merged', detail: `${finals.length} final messages read as one answer` });
    const first = finals[0] as Message;
    out = out.filter((m) => !isAnswer(m) || m === first);
    out[out.indexOf(first)] = { ...first, content: [{ type: 'text', text }] };
  }
  const answer = out.find(isAnswer);
  if (answer) {
    const text = messageText(answer);
    const kept = stripReasoningEcho(reasoning, text);
    if (kept !== text) {
      repairs.push({
        kind: 'reasoning_echo',
        detail: 'dropped a verbatim copy of the reasoning from the answer',
      });
      out[out.indexOf(answer)] = { ...answer, content: [{ type: 'text', text: kept }] };
    }
  }
  const calls = out.filter(isToolCall).length;
  if (calls > 0) {
    const drop = answered ? isToolCall : isAnswer;
    const n = out.filter(drop).length;
    if (n > 0) {
      repairs.push(
        answered
          ? { kind: 'call_after_answer', detail: `dropped ${n} tool call(s): the answer was already shown` }
          : {
              kind: 'answer_with_calls',
              detail: `dropped ${n} answer message(s) written alongside tool calls`,
            },
      );
      out = out.filter((m) => !drop(m));
    }
  }
  return { messages: out, repairs };
}

/** Reasoning shorter than this is not looked for in answers (a short draft of the answer is fine to repeat). */
const ECHO_MIN = 24;
const ECHO_TAIL = /^[\s.,;:!?-]+/;

/**
 * Answer text that starts by repeating the call's whole reasoning verbatim (a server that copies its reasoning
 * field into the content, a model that pastes its analysis above the answer) loses that copy: the rest is the
 * answer. An answer that is only a prefix of the reasoning (the model drafted it while thinking) is kept.
 */
export function stripReasoningEcho(reasoning: string, answer: string): string {
  const r = reasoning.trim();
  if (r.length < ECHO_MIN) return answer;
  const a = answer.trimStart();
  if (!a.startsWith(r) || a.length === r.length) return answer;
  return a.slice(r.length).replace(ECHO_TAIL, '');
}

/** The streaming form of {@link stripReasoningEcho}: answer deltas are held while they may still be the echo. */
export class ReasoningEchoFilter {
  private held = '';
  private decided = false;

  constructor(private readonly reasoning: string) {
    this.decided = reasoning.trim().length < ECHO_MIN;
  }

  /** Text to pass on for this delta ('' while it may still be the echo). */
  push(delta: string): string {
    if (this.decided) return delta;
    this.held += delta;
    const r = this.reasoning.trim();
    const a = this.held.trimStart();
    if (r.startsWith(a)) return '';
    this.decided = true;
    const out = this.held;
    this.held = '';
    if (!a.startsWith(r)) return out;
    // Past the echo: what follows its trailing punctuation is the answer; wait for its first word if needed.
    const rest = a.slice(r.length).replace(ECHO_TAIL, '');
    return rest;
  }

  /** The end of the answer: held text that was only a prefix of the reasoning is the answer after all. */
  end(): string {
    const out = this.held;
    this.held = '';
    this.decided = true;
    return out;
  }
}
