import type { Message, ReasoningEffort } from '../harmony/types.js';

export interface ConversationClose {
  reason: string;
  /** ISO timestamp. */
  at: string;
}

/**
 * A conversation seen as a support ticket. `waiting`: the bot answered and waits for the user; `escalated`: a
 * person was asked to take over; `closed`: later messages get no model call.
 */
export type TicketState = 'open' | 'waiting' | 'escalated' | 'closed';

export const TICKET_STATES: readonly TicketState[] = ['open', 'waiting', 'escalated', 'closed'];

export interface TicketEscalation {
  summary: string;
  /** Who asked for it: `model`, `reply_cap`, or a person's name. */
  by: string;
  at: string;
}

/** A note for the people who handle the ticket; never shown to the user or sent to the model. */
export interface TicketNote {
  text: string;
  author: string;
  at: string;
}

export interface TicketInfo {
  state: TicketState;
  /** Assistant answers (final channel) stored so far: what the reply cap counts. */
  replies: number;
  escalation?: TicketEscalation;
  notes: TicketNote[];
}

export interface ConversationRecord {
  id: string;
  /** The conversation's user, assistant and tool messages, oldest first (system/developer are rebuilt per call). */
  messages: Message[];
  createdAt: string;
  updatedAt: string;
  closed?: ConversationClose;
  /** Ticket state, reply count, escalation and notes (every built-in store fills it). */
  ticket?: TicketInfo;
}

export interface ConversationSummary {
  id: string;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
  closed?: ConversationClose;
  state?: TicketState;
  replies?: number;
}

/** Token usage of one run (one user message), as the runtime records it. */
export interface UsageRecord {
  /** One id per run, shared by its log lines and spans. */
  turnId: string;
  backend: string;
  effort: ReasoningEffort;
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  modelCalls: number;
}

export interface ToolUsage {
  tool: string;
  calls: number;
}

export interface UsageTotals {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  modelCalls: number;
  runs: number;
  tools: ToolUsage[];
}

/** Exclusive right to run one conversation's turn; `release` is idempotent. */
export interface ConversationLease {
  release(): Promise<void>;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Give up after this long (default 120 s) with a `LeaseTimeoutError`. */
  timeoutMs?: number;
}

/**
 * Where conversations live. `append`, `load`, `list` and `close` are all a store must do; the optional
 * operations (tickets, usage, leases, message claims) are what the built-in stores add so that several bot
 * replicas can share one database. The runtime and the bots use them when present.
 */
export interface ConversationStore {
  /** Appends messages, creating the conversation when it does not exist. Atomic: all of them or none. */
  append(id: string, messages: readonly Message[]): Promise<void>;
  load(id: string): Promise<ConversationRecord | null>;
  list(): Promise<ConversationSummary[]>;
  /** Marks the conversation closed with a reason (ticket closed, reply cap, abuse); later runs refuse it. */
  close(id: string, reason: string): Promise<void>;
  /** Sets the ticket state (`closed` goes through `close`, which records the reason). */
  setState?(id: string, state: Exclude<TicketState, 'closed'>): Promise<void>;
  /** Records that a person was asked to take over, and moves the ticket to `escalated`. */
  escalate?(id: string, escalation: Omit<TicketEscalation, 'at'>): Promise<void>;
  /** Adds an internal note to the ticket. */
  addNote?(id: string, note: Omit<TicketNote, 'at'>): Promise<void>;
  /** Records one run's token usage. */
  recordUsage?(id: string, usage: UsageRecord): Promise<void>;
  /** Token and tool usage of one conversation (or of all conversations without an id). */
  usage?(id?: string): Promise<UsageTotals>;
  /**
   * Waits until this caller alone may run a turn of the conversation (across processes sharing the store),
   * then holds that right until `release`.
   */
  acquire?(id: string, options?: AcquireOptions): Promise<ConversationLease>;
  /**
   * Claims a key (a platform message id) once: true for the first caller across every replica, false after.
   * Two replicas that both receive a message answer it once.
   */
  claim?(key: string): Promise<boolean>;
  /** How many times the conversation id was reset (0 when never): a reset starts a new ticket under the same id. */
  generation?(id: string): Promise<number>;
  /** Records a reset and returns the new generation (shared by every replica and restart). */
  nextGeneration?(id: string): Promise<number>;
  /** Closes connections and files. */
  dispose?(): Promise<void>;
}

export class LeaseTimeoutError extends Error {
  constructor(
    readonly conversationId: string,
    readonly waitedMs: number,
  ) {
    super(
      `conversation ${conversationId} is busy: another turn held it for ${Math.round(waitedMs / 1000)} s (raise AcquireOptions.timeoutMs or check for a stuck replica)`,
    );
    this.name = 'LeaseTimeoutError';
  }
}

/** Counts what the reply cap counts: assistant answers on the final channel. */
export function countReplies(messages: readonly Message[]): number {
  return messages.filter((m) => m.role === 'assistant' && m.channel === 'final').length;
}

/**
 * The ticket state after appending messages: a user message reopens a ticket that waited for the user; an
 * answer at the end moves an open ticket to waiting. Escalated and closed tickets keep their state.
 */
export function stateAfter(state: TicketState, messages: readonly Message[]): TicketState {
  if (state === 'closed' || state === 'escalated') return state;
  const last = messages.at(-1);
  if (last?.role === 'assistant' && last.channel === 'final') return 'waiting';
  if (messages.some((m) => m.role === 'user')) return 'open';
  return state;
}

/** Tool calls in messages: assistant messages addressed to a tool (`functions.x`, `browser.search`, `python`). */
export function toolCalls(messages: readonly Message[]): string[] {
  return messages
    .filter((m) => m.role === 'assistant' && m.recipient && m.recipient !== 'all' && m.recipient !== 'user')
    .map((m) => m.recipient as string);
}

/** The default store: a Map, deep-copied on the way in and out so callers cannot mutate stored history. */
export class InMemoryConversationStore implements ConversationStore {
  private readonly byId = new Map<string, ConversationRecord & { ticket: TicketInfo }>();
  private readonly usages = new Map<string, UsageRecord[]>();
  private readonly claimed = new Set<string>();
  private readonly locks = new Map<string, Promise<void>>();
  private readonly generations = new Map<string, number>();

  async generation(id: string): Promise<number> {
    return this.generations.get(id) ?? 0;
  }

  async nextGeneration(id: string): Promise<number> {
    const next = (this.generations.get(id) ?? 0) + 1;
    this.generations.set(id, next);
    return next;
  }

  private ensure(id: string): ConversationRecord & { ticket: TicketInfo } {
    let rec = this.byId.get(id);
    if (!rec) {
      const now = new Date().toISOString();
      rec = {
        id,
        messages: [],
        createdAt: now,
        updatedAt: now,
        ticket: { state: 'open', replies: 0, notes: [] },
      };
      this.byId.set(id, rec);
    }
    return rec;
  }

  async append(id: string, messages: readonly Message[]): Promise<void> {
    const rec = this.ensure(id);
    rec.messages.push(...structuredClone(messages as Message[]));
    rec.ticket.replies += countReplies(messages);
    rec.ticket.state = stateAfter(rec.ticket.state, messages);
    rec.updatedAt = new Date().toISOString();
  }

  async load(id: string): Promise<ConversationRecord | null> {
    const rec = this.byId.get(id);
    return rec ? structuredClone(rec) : null;
  }

  async list(): Promise<ConversationSummary[]> {
    return [...this.byId.values()].map((r) => ({
      id: r.id,
      messageCount: r.messages.length,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      state: r.ticket.state,
      replies: r.ticket.replies,
      ...(r.closed ? { closed: { ...r.closed } } : {}),
    }));
  }

  async close(id: string, reason: string): Promise<void> {
    const rec = this.ensure(id);
    rec.closed = { reason, at: new Date().toISOString() };
    rec.ticket.state = 'closed';
    rec.updatedAt = rec.closed.at;
  }

  async setState(id: string, state: Exclude<TicketState, 'closed'>): Promise<void> {
    const rec = this.ensure(id);
    if (rec.closed) return;
    rec.ticket.state = state;
    rec.updatedAt = new Date().toISOString();
  }

  async escalate(id: string, e: Omit<TicketEscalation, 'at'>): Promise<void> {
    const rec = this.ensure(id);
    rec.ticket.escalation = { ...e, at: new Date().toISOString() };
    if (!rec.closed) rec.ticket.state = 'escalated';
  }

  async addNote(id: string, note: Omit<TicketNote, 'at'>): Promise<void> {
    this.ensure(id).ticket.notes.push({ ...note, at: new Date().toISOString() });
  }

  async recordUsage(id: string, usage: UsageRecord): Promise<void> {
    const list = this.usages.get(id) ?? [];
    list.push({ ...usage });
    this.usages.set(id, list);
  }

  async usage(id?: string): Promise<UsageTotals> {
    const ids = id === undefined ? [...new Set([...this.byId.keys(), ...this.usages.keys()])] : [id];
    const totals: UsageTotals = {
      promptTokens: 0,
      completionTokens: 0,
      cachedPromptTokens: 0,
      modelCalls: 0,
      runs: 0,
      tools: [],
    };
    const tools = new Map<string, number>();
    for (const cid of ids) {
      for (const u of this.usages.get(cid) ?? []) {
        totals.promptTokens += u.promptTokens;
        totals.completionTokens += u.completionTokens;
        totals.cachedPromptTokens += u.cachedPromptTokens;
        totals.modelCalls += u.modelCalls;
        totals.runs++;
      }
      for (const t of toolCalls(this.byId.get(cid)?.messages ?? [])) tools.set(t, (tools.get(t) ?? 0) + 1);
    }
    totals.tools = [...tools]
      .map(([tool, calls]) => ({ tool, calls }))
      .sort((a, b) => a.tool.localeCompare(b.tool));
    return totals;
  }

  /** One turn at a time per conversation within this process. */
  async acquire(id: string): Promise<ConversationLease> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const chained = prev.then(() => mine);
    this.locks.set(id, chained);
    await prev;
    let done = false;
    return {
      release: async () => {
        if (done) return;
        done = true;
        release();
        if (this.locks.get(id) === chained) this.locks.delete(id);
      },
    };
  }

  async claim(key: string): Promise<boolean> {
    if (this.claimed.has(key)) return false;
    this.claimed.add(key);
    return true;
  }
}
