import type { Message } from '../harmony/types.js';

export interface ConversationClose {
  reason: string;
  /** ISO timestamp. */
  at: string;
}

export interface ConversationRecord {
  id: string;
  /** The conversation's user, assistant and tool messages, oldest first (system/developer are rebuilt per call). */
  messages: Message[];
  createdAt: string;
  updatedAt: string;
  closed?: ConversationClose;
}

export interface ConversationSummary {
  id: string;
  messageCount: number;
  createdAt: string;
  updatedAt: string;
  closed?: ConversationClose;
}

/**
 * Where conversations live. In-memory by default; a bot running on several machines passes a shared
 * implementation (a database) with the same four operations.
 */
export interface ConversationStore {
  /** Appends messages, creating the conversation when it does not exist. */
  append(id: string, messages: readonly Message[]): Promise<void>;
  load(id: string): Promise<ConversationRecord | null>;
  list(): Promise<ConversationSummary[]>;
  /** Marks the conversation closed with a reason (ticket closed, reply cap, abuse); later runs refuse it. */
  close(id: string, reason: string): Promise<void>;
}

/** The default store: a Map, deep-copied on the way in and out so callers cannot mutate stored history. */
export class InMemoryConversationStore implements ConversationStore {
  private readonly byId = new Map<string, ConversationRecord>();

  private ensure(id: string): ConversationRecord {
    let rec = this.byId.get(id);
    if (!rec) {
      const now = new Date().toISOString();
      rec = { id, messages: [], createdAt: now, updatedAt: now };
      this.byId.set(id, rec);
    }
    return rec;
  }

  async append(id: string, messages: readonly Message[]): Promise<void> {
    const rec = this.ensure(id);
    rec.messages.push(...structuredClone(messages as Message[]));
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
      ...(r.closed ? { closed: { ...r.closed } } : {}),
    }));
  }

  async close(id: string, reason: string): Promise<void> {
    const rec = this.ensure(id);
    rec.closed = { reason, at: new Date().toISOString() };
    rec.updatedAt = rec.closed.at;
  }
}
