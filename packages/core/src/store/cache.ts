import type { Message } from '../harmony/types.js';
import type {
  ConversationClose,
  ConversationRecord,
  TicketEscalation,
  TicketNote,
  TicketState,
} from './store.js';

/** One conversation as the database last returned it: messages kept as their stored JSON text. */
export interface CachedConversation {
  /** The messages as one JSON array (what the database stores, joined): parsed afresh on every load. */
  json: string;
  count: number;
  createdAt: string;
  updatedAt: string;
  state: TicketState;
  replies: number;
  notes: TicketNote[];
  escalation?: TicketEscalation;
  closed?: ConversationClose;
}

/** A fresh record from an entry: messages parsed anew, notes and ticket copied, so callers may mutate it. */
export function recordOf(id: string, e: CachedConversation): ConversationRecord {
  const rec: ConversationRecord = {
    id,
    messages: JSON.parse(e.json) as Message[],
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    ticket: {
      state: e.state,
      replies: e.replies,
      notes: e.notes.map((n) => ({ ...n })),
      ...(e.escalation ? { escalation: { ...e.escalation } } : {}),
    },
  };
  if (e.closed) rec.closed = { ...e.closed };
  return rec;
}

export interface ConversationCacheOptions {
  /** Most conversations kept (default 1,000). */
  conversations?: number;
  /** Most characters of message JSON kept, all conversations together (default 32 million). */
  chars?: number;
}

/**
 * A read-through cache of whole conversations for a store that is the only writer of its database (the embedded
 * store: one process per folder, one store per database). Least recently used conversations are dropped past
 * the bounds.
 *
 * Consistency: every write to a conversation goes through `write`, which counts writes started and in flight.
 * A load fills the cache only when no write started or was in flight while it queried, so a fill never holds a
 * state older than a write that finished; an append extends an entry only when its first sequence number is the
 * entry's count (the appends landed in order), any other write drops the entry when it finishes.
 */
export class ConversationCache {
  private readonly entries = new Map<string, CachedConversation>();
  private chars = 0;
  private started = 0;
  private inFlight = 0;
  private readonly maxConversations: number;
  private readonly maxChars: number;

  constructor(options: ConversationCacheOptions = {}) {
    this.maxConversations = options.conversations ?? 1000;
    this.maxChars = options.chars ?? 32_000_000;
  }

  /** A fresh record from the entry (callers may mutate it), or undefined. */
  get(id: string): ConversationRecord | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    // Most recently used last.
    this.entries.delete(id);
    this.entries.set(id, e);
    return recordOf(id, e);
  }

  /** A token for `fill`: taken before a read's query. */
  readToken(): number {
    return this.inFlight ? -1 : this.started;
  }

  /** Stores what a read returned, unless a write could have changed the conversation meanwhile. */
  fill(id: string, token: number, entry: CachedConversation): void {
    if (token < 0 || token !== this.started || this.inFlight) return;
    this.put(id, entry);
  }

  /**
   * Runs a write to one conversation. `after` gets the current entry (or undefined) and this write's standing:
   * `alone` when no other write started or ran since it began (then it may create an entry).
   */
  async write<T>(
    id: string,
    fn: () => Promise<T>,
    after: (
      result: T,
      entry: CachedConversation | undefined,
      alone: boolean,
    ) => CachedConversation | undefined,
  ): Promise<T> {
    const mine = ++this.started;
    const concurrent = this.inFlight > 0;
    this.inFlight++;
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.inFlight--;
      this.drop(id);
      throw err;
    }
    this.inFlight--;
    const alone = !concurrent && mine === this.started && this.inFlight === 0;
    const next = after(result, this.entries.get(id), alone);
    if (next) this.put(id, next);
    else this.drop(id);
    return result;
  }

  /** Drops one conversation (after a write whose effect the cache does not mirror). */
  drop(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.chars -= e.json.length;
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
    this.chars = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  private put(id: string, entry: CachedConversation): void {
    this.drop(id);
    if (entry.json.length > this.maxChars || this.maxConversations <= 0) return;
    this.entries.set(id, entry);
    this.chars += entry.json.length;
    for (const [oldest, e] of this.entries) {
      if (this.entries.size <= this.maxConversations && this.chars <= this.maxChars) break;
      this.entries.delete(oldest);
      this.chars -= e.json.length;
    }
  }
}
