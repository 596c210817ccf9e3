import {
  Agent,
  type Backend,
  type BackendChooser,
  type ConversationStore,
  type FunctionTool,
  InMemoryConversationStore,
  type ModelSize,
  maxInputLength,
  type PatternRule,
  parseJsonArgs,
  type ReasoningEffort,
  type ReasoningMonitor,
  type RoutingDecision,
  type RunOptions,
  type RunResult,
  type RunStatus,
  runStream,
  type SamplingSettings,
  type TicketInfo,
  ToolCallError,
  type ToolNamespace,
} from '@harmonia/core';
import { createRouterChooser } from '@harmonia/router';
import { supportMonitor, supportOutputGuardrail } from './guards.js';
import { answerGuardrailOf, type TopicMonitor } from './monitor/types.js';
import { refusalText, supportInstructions, type TopicPolicy } from './policy.js';
import { defuseSpecialTokens, type UntrustedFinding, untrustedNamespace } from './untrusted.js';

export interface Escalation {
  conversationId: string;
  summary: string;
  /** `model` when the agent asked for it, `reply_cap` when the conversation ran out of replies. */
  by: 'model' | 'reply_cap';
  at: string;
}

export interface TicketClosure {
  conversationId: string;
  reason: string;
  /** `model` (end_conversation), `reply_cap`, or the moderator's name. */
  by: string;
  at: string;
}

export interface SupportBotOptions {
  policy: TopicPolicy;
  /** A fixed backend or any `BackendChooser`. */
  backend?: Backend | BackendChooser;
  /** One backend per model size: each question is routed to model and effort by `@harmonia/router`. */
  backends?: Record<ModelSize, Backend>;
  /** Tool namespaces (e.g. the `faq` namespace) are wrapped as untrusted; functions are passed as they are. */
  tools?: readonly (FunctionTool | ToolNamespace)[];
  /** Bot replies per conversation (default 5); the next message closes the ticket and escalates. */
  maxReplies?: number;
  /** Hands a conversation to a person (your ticket system, a Slack channel, an email). */
  escalate?: (e: Escalation) => void | Promise<void>;
  /**
   * Judges reasoning and answer against what the bot is for (`EmbeddedMonitor`, `ModelMonitor`), on top of the
   * keyword rules. `createFaqAgent` gives the embedded monitor over its docs by default.
   */
  topicMonitor?: TopicMonitor;
  monitorRules?: readonly PatternRule[];
  outputRules?: readonly PatternRule[];
  store?: ConversationStore;
  /** Appended to the developer instructions. */
  instructions?: string;
  effort?: ReasoningEffort;
  sampling?: SamplingSettings;
  /** Longer user messages are refused before the model sees them (default 4000 characters). */
  maxInputChars?: number;
  currentDate?: string | null;
}

export interface SupportReply {
  conversationId: string;
  /** What to show the user: the final answer or a refusal; never reasoning. Empty: post nothing. */
  text: string;
  status: RunStatus;
  /** Entry ids the answer cites (`[faq:<id>]`). */
  citations: string[];
  closed?: { reason: string };
  escalated?: Escalation;
  routing: RoutingDecision[];
  /** Injection-looking content seen in tool results during this turn (for operators). */
  injections: UntrustedFinding[];
  /** Why the answer was withheld or replaced (monitor, guardrail, cap), for logs. */
  stop?: RunResult['stop'];
}

export interface SupportStreamOptions {
  /** Identifies the run in logs and the store's usage records. */
  turnId?: string;
  /** Called before every model call with exactly what is sent (journals). */
  onModelCall?: RunOptions['onModelCall'];
  /**
   * Also yield `searching` events when the model searches the docs (a terminal shows them while it reasons). The
   * query is included only when the call was made on a user-visible channel; an analysis-channel query is
   * reasoning and is never shown.
   */
  progress?: boolean;
  /**
   * Also yield the model's reasoning as `reasoning` events, and the query of every doc search, for the person
   * running the bot (a terminal's --show-reasoning); never for the bot's users.
   */
  reasoning?: boolean;
}

/** What `stream` yields: the user-visible text so far (replace, not append), then the reply. */
export type SupportEvent =
  | { type: 'text'; text: string }
  | { type: 'searching'; query?: string }
  | { type: 'reasoning'; delta: string }
  | { type: 'done'; reply: SupportReply };

const CAPPED_TEXT =
  "I've reached my limit for this conversation, so I've passed it to a person who will follow up.";
const CLOSED_TEXT = 'This conversation is closed. Start a new one if you need more help.';

/**
 * A support agent on the Harmonia runtime: topic policy in the developer message, tool output as untrusted data,
 * a reasoning monitor and an output guardrail that stop off-task or unsafe answers before they are shown, a reply
 * cap, ticket closing with a recorded reason, escalation to a human, and per-question routing.
 */
export class SupportBot {
  readonly agent: Agent;
  readonly store: ConversationStore;
  readonly closures: TicketClosure[] = [];
  readonly escalations: Escalation[] = [];
  private readonly generations = new Map<string, number>();
  private readonly external = new Map<string, string>();
  private readonly findings = new Map<string, UntrustedFinding[]>();
  private readonly pendingEscalation = new Map<string, Escalation>();

  constructor(private readonly options: SupportBotOptions) {
    const backend =
      options.backend ?? (options.backends ? createRouterChooser({ backends: options.backends }) : undefined);
    if (!backend) throw new TypeError('createSupportBot: give `backend` or `backends` (one per model size)');
    this.store = options.store ?? new InMemoryConversationStore();
    const record = (f: UntrustedFinding) => {
      const list = this.findings.get(f.conversationId) ?? [];
      list.push(f);
      this.findings.set(f.conversationId, list);
    };
    const tools = (options.tools ?? []).map((t) =>
      'kind' in t && t.kind === 'function' ? t : untrustedNamespace(t as ToolNamespace, record),
    );
    this.agent = new Agent({
      name: `${options.policy.product} support`,
      instructions: supportInstructions(options.policy, options.instructions),
      tools: [...tools, this.escalateFunction(), this.noteFunction()],
      backend,
      store: this.store,
      replyCap: options.maxReplies ?? 5,
      allowEndConversation: true,
      monitor: withTopic(supportMonitor(options.monitorRules), options.topicMonitor),
      guardrails: {
        input: [maxInputLength(options.maxInputChars ?? 4000)],
        output: [
          supportOutputGuardrail(options.policy, options.outputRules),
          ...(options.topicMonitor
            ? [answerGuardrailOf(options.topicMonitor, refusalText(options.policy))]
            : []),
        ],
      },
      // Answer text is shown a sentence at a time, each only after the output guardrail passed on everything so
      // far: an off-task answer is withheld before any of it is shown (a chat edit cannot be un-seen).
      guardStreaming: 'sentence',
      stoppedReply: refusalText(options.policy),
      ...(options.effort ? { effort: options.effort } : {}),
      ...(options.sampling ? { sampling: options.sampling } : {}),
      ...(options.currentDate !== undefined ? { currentDate: options.currentDate } : {}),
    });
  }

  /** Answers one user message in a conversation (a thread, a DM). */
  async ask(conversationId: string, text: string, signal?: AbortSignal): Promise<SupportReply> {
    let reply: SupportReply | undefined;
    for await (const ev of this.stream(conversationId, text, signal))
      if (ev.type === 'done') reply = ev.reply;
    return reply!;
  }

  /**
   * Like `ask`, yielding the visible answer as it grows. Only final-channel text is ever yielded; when a
   * guardrail replaces a streamed answer, the next `text` event carries the replacement.
   */
  async *stream(
    conversationId: string,
    text: string,
    signal?: AbortSignal,
    options: SupportStreamOptions = {},
  ): AsyncGenerator<SupportEvent> {
    const { turnId, onModelCall, progress, reasoning } = options;
    const id = await this.internalId(conversationId);
    this.findings.delete(id);
    let visible = '';
    let result: RunResult | undefined;
    for await (const ev of runStream(this.agent, text, {
      ...(turnId ? { turnId } : {}),
      ...(onModelCall ? { onModelCall } : {}),
      conversationId: id,
      ...(signal ? { signal } : {}),
      ...(reasoning ? { includeReasoning: true } : {}),
    })) {
      if (ev.type === 'reasoning_delta') {
        if (reasoning) yield { type: 'reasoning', delta: ev.delta };
      } else if (ev.type === 'final_delta') {
        visible += ev.delta;
        yield { type: 'text', text: defuseSpecialTokens(visible) };
      } else if (ev.type === 'turn_started' || (ev.type === 'guardrail_tripped' && ev.stage === 'output')) {
        // A new model turn (retry, tool loop) starts its answer over; a refused answer is taken down.
        if (visible) yield { type: 'text', text: '' };
        visible = '';
      } else if (
        (progress || reasoning) &&
        ev.type === 'tool_call_started' &&
        ev.recipient === 'faq.search'
      ) {
        let query: string | undefined;
        if (!ev.internal || reasoning) {
          try {
            const q = (JSON.parse(ev.arguments) as { query?: unknown }).query;
            if (typeof q === 'string') query = defuseSpecialTokens(q);
          } catch {}
        }
        yield { type: 'searching', ...(query ? { query } : {}) };
      } else if (ev.type === 'done') result = ev.result;
    }
    const reply = await this.toReply(conversationId, id, result!, text);
    if (reply.text !== defuseSpecialTokens(visible)) yield { type: 'text', text: reply.text };
    yield { type: 'done', reply };
  }

  /**
   * Moderator command: starts a fresh conversation (and reply count) under the same id. Kept in the store when it
   * can (every built-in store), so the reset holds across restarts and replicas.
   */
  async reset(conversationId: string): Promise<void> {
    if (this.store.nextGeneration) await this.store.nextGeneration(conversationId);
    else this.generations.set(conversationId, (this.generations.get(conversationId) ?? 0) + 1);
  }

  /** Closes the ticket with a reason; later messages get the closed notice and no model call. */
  async close(conversationId: string, reason: string, by: string): Promise<void> {
    await this.store.close(await this.internalId(conversationId), reason);
    this.closures.push({ conversationId, reason, by, at: new Date().toISOString() });
  }

  /** The current ticket's closing record, if it is closed. */
  async closedReason(conversationId: string): Promise<string | undefined> {
    return (await this.store.load(await this.internalId(conversationId)))?.closed?.reason;
  }

  /** The store's id of the conversation's current ticket (`id`, or `id~N` after N resets). */
  private async internalId(conversationId: string): Promise<string> {
    const gen = this.store.generation
      ? await this.store.generation(conversationId)
      : (this.generations.get(conversationId) ?? 0);
    const id = gen === 0 ? conversationId : `${conversationId}~${gen}`;
    this.external.set(id, conversationId);
    return id;
  }

  private async toReply(
    conversationId: string,
    id: string,
    result: RunResult,
    input: string,
  ): Promise<SupportReply> {
    let text = result.finalText;
    let escalated = this.pendingEscalation.get(id);
    this.pendingEscalation.delete(id);
    if (result.status === 'capped') {
      text = CAPPED_TEXT;
      escalated = await this.doEscalate(id, {
        conversationId,
        summary: `Reply cap reached; last message: ${clip(input)}`,
        by: 'reply_cap',
        at: new Date().toISOString(),
      });
    } else if (result.status === 'closed') {
      text = CLOSED_TEXT;
    }
    if (result.closed) {
      this.closures.push({
        conversationId,
        reason: result.closed.reason,
        by: result.status === 'capped' ? 'reply_cap' : 'model',
        at: new Date().toISOString(),
      });
    }
    // Special-token look-alikes never reach a display as markup (`<|reserved_200013|>` → `‹|reserved_200013|›`).
    text = defuseSpecialTokens(text);
    return {
      conversationId,
      text,
      status: result.status,
      citations: [...new Set([...text.matchAll(/\[faq:([^\]\s]+)\]/g)].map((m) => m[1]!))],
      ...(result.closed ? { closed: result.closed } : {}),
      ...(escalated ? { escalated } : {}),
      routing: result.routing,
      injections: this.findings.get(id) ?? [],
      ...(result.stop ? { stop: result.stop } : {}),
    };
  }

  /** Records the escalation on the ticket (state `escalated`, in the store), then calls the handler hook. */
  private async doEscalate(internalId: string, e: Escalation): Promise<Escalation> {
    this.escalations.push(e);
    await this.store.escalate?.(internalId, { summary: e.summary, by: e.by });
    await this.options.escalate?.(e);
    return e;
  }

  /** The ticket's state, reply count, escalation and internal notes, from the store. */
  async ticket(conversationId: string): Promise<TicketInfo | undefined> {
    return (await this.store.load(await this.internalId(conversationId)))?.ticket;
  }

  /** Adds an internal note to the ticket (for moderators; never shown to the user or the model). */
  async addNote(conversationId: string, text: string, author: string): Promise<void> {
    if (!this.store.addNote) throw new TypeError('this conversation store keeps no notes');
    await this.store.addNote(await this.internalId(conversationId), { text: clip(text, 2000), author });
  }

  private noteFunction(): FunctionTool {
    return {
      kind: 'function',
      name: 'leave_note',
      description:
        'Leaves an internal note on this ticket for the support team (what you tried, what the user needs). The user never sees it.',
      parameters: {
        type: 'object',
        properties: { text: { type: 'string', description: 'The note' } },
        required: ['text'],
      },
      invoke: async (raw, ctx) => {
        const args = parseJsonArgs(raw) as { text?: unknown };
        if (typeof args !== 'object' || args === null || typeof args.text !== 'string' || !args.text.trim())
          throw new ToolCallError('leave_note needs {"text": "<the note>"}');
        if (!this.store.addNote) return { text: 'Notes are not kept by this deployment; carry on.' };
        await this.store.addNote(ctx.conversationId, { text: clip(args.text, 2000), author: 'model' });
        return { text: 'Noted (internal; the user does not see it).' };
      },
    };
  }

  private escalateFunction(): FunctionTool {
    return {
      kind: 'function',
      name: 'escalate_to_human',
      description:
        'Hands this conversation to a human support agent. Use when the user asks for a person or the docs do not answer.',
      parameters: {
        type: 'object',
        properties: { summary: { type: 'string', description: 'One line: what the user needs' } },
        required: ['summary'],
      },
      invoke: async (raw, ctx) => {
        const args = parseJsonArgs(raw) as { summary?: unknown };
        if (
          typeof args !== 'object' ||
          args === null ||
          typeof args.summary !== 'string' ||
          !args.summary.trim()
        ) {
          throw new ToolCallError('escalate_to_human needs {"summary": "<one line>"}');
        }
        const e = await this.doEscalate(ctx.conversationId, {
          conversationId: this.external.get(ctx.conversationId) ?? ctx.conversationId,
          summary: clip(args.summary),
          by: 'model',
          at: new Date().toISOString(),
        });
        this.pendingEscalation.set(ctx.conversationId, e);
        return { text: 'A person has been notified. Tell the user someone will follow up here.' };
      },
    };
  }
}

export function createSupportBot(options: SupportBotOptions): SupportBot {
  return new SupportBot(options);
}

/** The keyword rules, then the topic monitor: the first that flags stops the turn. */
function withTopic(rules: ReasoningMonitor, topic: TopicMonitor | undefined): ReasoningMonitor {
  if (!topic) return rules;
  return {
    name: `${rules.name}+${topic.name}`,
    async check(reasoning, ctx) {
      const v = await rules.check(reasoning, ctx);
      return v.flagged ? v : topic.checkReasoning(reasoning, ctx);
    },
  };
}

function clip(s: string, n = 300): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
