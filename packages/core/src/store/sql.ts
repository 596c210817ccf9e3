import { randomUUID } from 'node:crypto';
import { abortableSleep } from '../backend/retry.js';
import type { Message } from '../harmony/types.js';
import {
  type CachedConversation,
  ConversationCache,
  type ConversationCacheOptions,
  recordOf,
} from './cache.js';
import { MIGRATIONS, type Migration, migrationStatements } from './migrations.js';
import {
  type AcquireOptions,
  type ConversationLease,
  type ConversationRecord,
  type ConversationStore,
  type ConversationSummary,
  countReplies,
  LeaseTimeoutError,
  stateAfter,
  type TicketEscalation,
  type TicketNote,
  type TicketState,
  toolCalls,
  type UsageRecord,
  type UsageTotals,
} from './store.js';

export type SqlRow = Record<string, unknown>;

/** What the SQL store needs from a PostgreSQL connection (PGlite or a `pg` pool). */
export interface SqlExecutor {
  query(sql: string, params?: readonly unknown[]): Promise<SqlRow[]>;
}

export interface SqlDriver extends SqlExecutor {
  /** `embedded` (PGlite) or `postgres`. */
  readonly kind: 'embedded' | 'postgres';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Runs statements separated by semicolons (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

export interface SqlStoreOptions {
  /**
   * Keep loaded conversations in memory (read-through, updated by this store's writes) — only for the embedded
   * store, whose database this store alone writes (default: on, 1,000 conversations / 32 M characters;
   * `false` turns it off). Ignored for PostgreSQL, where other replicas write too.
   */
  cache?: ConversationCacheOptions | false;
  /** How long a turn's lease lasts without renewal (default 30 s); a crashed replica's lease expires after it. */
  leaseMs?: number;
  /** Identifies this process in lease rows (default: a random id). */
  owner?: string;
}

/** Thrown when the database holds a newer schema than this version of Harmonia knows. */
export class StoreSchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreSchemaError';
  }
}

/** A fixed key for the advisory lock that serialises migrations across replicas starting together. */
const MIGRATION_LOCK = 0x6861726d;

/** Applies pending migrations in one transaction each, under an advisory lock. Returns the versions applied. */
export async function migrate(
  driver: SqlDriver,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  await driver.exec(
    `CREATE TABLE IF NOT EXISTS harmonia_migrations (
       version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  return driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const rows = await tx.query('SELECT version FROM harmonia_migrations');
    const have = new Set(rows.map((r) => Number(r.version)));
    const newest = Math.max(0, ...have);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known)
      throw new StoreSchemaError(
        `the store's schema is version ${newest}, newer than this Harmonia knows (${known}): upgrade Harmonia`,
      );
    const applied: number[] = [];
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      for (const stmt of migrationStatements(m.sql)) await tx.query(stmt);
      await tx.query('INSERT INTO harmonia_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

/** The ticket and timestamps of a row from harmonia_append or harmonia_load. */
function ticketOf(r: SqlRow): Omit<CachedConversation, 'json' | 'count' | 'notes'> {
  return {
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    state: r.state as TicketState,
    replies: Number(r.replies),
    ...(r.escalated_at
      ? {
          escalation: {
            summary: String(r.escalation_summary),
            by: String(r.escalated_by),
            at: iso(r.escalated_at),
          },
        }
      : {}),
    ...(r.closed_at ? { closed: { reason: String(r.close_reason), at: iso(r.closed_at) } } : {}),
  };
}

/** The first store made on each embedded driver. */
const storesOn = new WeakMap<SqlDriver, SqlConversationStore>();

/**
 * The conversation store on PostgreSQL's SQL, for both the embedded PGlite database and a PostgreSQL server.
 * Every write is one transaction; leases and message claims make several replicas on one database safe.
 */
export class SqlConversationStore implements ConversationStore {
  readonly owner: string;
  private readonly leaseMs: number;
  private readonly ready: Promise<unknown>;
  /** Only for an embedded database, which this store alone writes (see storesOn). */
  private cache: ConversationCache | undefined;

  constructor(
    /** The connection (reads, migrations). Conversations written through it bypass an embedded store's cache. */
    readonly driver: SqlDriver,
    options: SqlStoreOptions = {},
  ) {
    this.owner = options.owner ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    if (driver.kind === 'embedded') {
      // Another store on the same embedded driver would write behind this one's cache (or this one behind its):
      // only a driver's only store caches.
      const first = storesOn.get(driver);
      if (first) first.cache = undefined;
      else {
        storesOn.set(driver, this);
        if (options.cache !== false) this.cache = new ConversationCache(options.cache);
      }
    }
    this.ready = migrate(driver);
    // Surfaced by the first operation; not an unhandled rejection in between.
    this.ready.catch(() => {});
  }

  /** Resolves when migrations ran (every operation waits for it too). */
  async init(): Promise<this> {
    await this.ready;
    return this;
  }

  private async ensure(tx: SqlExecutor, id: string): Promise<void> {
    await tx.query('INSERT INTO conversations (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [id]);
    await tx.query(
      'INSERT INTO tickets (conversation_id) VALUES ($1) ON CONFLICT (conversation_id) DO NOTHING',
      [id],
    );
  }

  /** Runs a write that changes what `load` returns: through the cache (which drops the entry) when there is one. */
  private changes<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.cache ? this.cache.write(id, fn, () => undefined) : fn();
  }

  async append(id: string, messages: readonly Message[]): Promise<void> {
    await this.ready;
    if (!messages.length) {
      await this.driver.transaction((tx) => this.ensure(tx, id));
      return;
    }
    const bodies = messages.map((m) => JSON.stringify(m));
    const json = `[${bodies.join(',')}]`;
    const last = messages.at(-1)!;
    const answered = last.role === 'assistant' && last.channel === 'final';
    const asked = messages.some((m) => m.role === 'user');
    // Index columns only (the body is the message); PostgreSQL text cannot hold NUL.
    const col = (v: string | null | undefined) => (v == null ? null : v.replaceAll('\0', ''));
    const params = [
      id,
      messages.length,
      json,
      messages.map((m) => col(m.role)),
      messages.map((m) => col(m.channel)),
      messages.map((m) => col(m.recipient)),
      toolCalls(messages).map((t) => col(t)),
      countReplies(messages),
      stateAfter('open', messages),
      answered,
      asked,
    ];
    const write = async () => {
      const [row] = await this.driver.query(
        'SELECT * FROM harmonia_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
        params,
      );
      if (!row) throw new Error(`append to ${id} returned no row`);
      return row;
    };
    if (!this.cache) {
      await write();
      return;
    }
    await this.cache.write(id, write, (row, entry, alone) => {
      const start = Number(row.start);
      const base =
        entry && entry.count === start
          ? entry
          : !entry && start === 0 && alone && !row.has_notes
            ? null
            : undefined;
      if (base === undefined) return undefined;
      return {
        json: base?.count ? `${base.json.slice(0, -1)},${json.slice(1)}` : json,
        count: start + messages.length,
        notes: base ? base.notes : [],
        ...ticketOf(row),
      };
    });
  }

  async load(id: string): Promise<ConversationRecord | null> {
    await this.ready;
    const hit = this.cache?.get(id);
    if (hit) return hit;
    const token = this.cache?.readToken() ?? -1;
    // One call: the ticket row with its messages as one JSON array (the stored texts, joined) and its notes.
    const [conv] = await this.driver.query('SELECT * FROM harmonia_load($1)', [id]);
    if (!conv) return null;
    const entry: CachedConversation = {
      json: String(conv.messages),
      count: Number(conv.message_count),
      notes: (typeof conv.notes === 'string'
        ? (JSON.parse(conv.notes) as { author: string; text: string; at: string }[])
        : (conv.notes as { author: string; text: string; at: string }[])
      ).map((n) => ({ author: n.author, text: n.text, at: iso(n.at) })),
      ...ticketOf(conv),
    };
    this.cache?.fill(id, token, entry);
    return recordOf(id, entry);
  }

  async list(): Promise<ConversationSummary[]> {
    await this.ready;
    const rows = await this.driver.query(
      `SELECT c.id, c.message_count, c.created_at, c.updated_at, t.state, t.replies, t.close_reason, t.closed_at
         FROM conversations c JOIN tickets t ON t.conversation_id = c.id ORDER BY c.updated_at DESC`,
    );
    return rows.map((r) => ({
      id: String(r.id),
      messageCount: Number(r.message_count),
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
      state: r.state as TicketState,
      replies: Number(r.replies),
      ...(r.closed_at ? { closed: { reason: String(r.close_reason), at: iso(r.closed_at) } } : {}),
    }));
  }

  async close(id: string, reason: string): Promise<void> {
    await this.ready;
    await this.changes(id, () =>
      this.driver.transaction(async (tx) => {
        await this.ensure(tx, id);
        await tx.query(
          `UPDATE tickets SET state = 'closed', close_reason = $2, closed_at = now() WHERE conversation_id = $1`,
          [id, reason],
        );
        await tx.query('UPDATE conversations SET updated_at = now() WHERE id = $1', [id]);
      }),
    );
  }

  async setState(id: string, state: Exclude<TicketState, 'closed'>): Promise<void> {
    await this.ready;
    await this.changes(id, () =>
      this.driver.transaction(async (tx) => {
        await this.ensure(tx, id);
        // A closed ticket stays closed.
        await tx.query(`UPDATE tickets SET state = $2 WHERE conversation_id = $1 AND state <> 'closed'`, [
          id,
          state,
        ]);
      }),
    );
  }

  async escalate(id: string, e: Omit<TicketEscalation, 'at'>): Promise<void> {
    await this.ready;
    await this.changes(id, () =>
      this.driver.transaction(async (tx) => {
        await this.ensure(tx, id);
        await tx.query(
          `UPDATE tickets SET escalation_summary = $2, escalated_by = $3, escalated_at = now(),
                state = CASE WHEN state = 'closed' THEN state ELSE 'escalated' END
          WHERE conversation_id = $1`,
          [id, e.summary, e.by],
        );
      }),
    );
  }

  async addNote(id: string, note: Omit<TicketNote, 'at'>): Promise<void> {
    await this.ready;
    await this.changes(id, () =>
      this.driver.transaction(async (tx) => {
        await this.ensure(tx, id);
        await tx.query('INSERT INTO ticket_notes (conversation_id, author, body) VALUES ($1, $2, $3)', [
          id,
          note.author,
          note.text,
        ]);
      }),
    );
  }

  async recordUsage(id: string, u: UsageRecord): Promise<void> {
    await this.ready;
    await this.driver.query(
      `INSERT INTO token_usage (conversation_id, turn_id, backend, effort, prompt_tokens, completion_tokens,
                                cached_prompt_tokens, model_calls) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        id,
        u.turnId,
        u.backend,
        u.effort,
        u.promptTokens,
        u.completionTokens,
        u.cachedPromptTokens,
        u.modelCalls,
      ],
    );
  }

  async usage(id?: string): Promise<UsageTotals> {
    await this.ready;
    const where = id === undefined ? '' : 'WHERE conversation_id = $1';
    const params = id === undefined ? [] : [id];
    const [t] = await this.driver.query(
      `SELECT coalesce(sum(prompt_tokens), 0)::int AS p, coalesce(sum(completion_tokens), 0)::int AS c,
              coalesce(sum(cached_prompt_tokens), 0)::int AS k, coalesce(sum(model_calls), 0)::int AS m,
              count(*)::int AS n FROM token_usage ${where}`,
      params,
    );
    const tools = await this.driver.query(
      `SELECT tool, count(*)::int AS calls FROM tool_usage ${where} GROUP BY tool ORDER BY tool`,
      params,
    );
    return {
      promptTokens: Number(t?.p ?? 0),
      completionTokens: Number(t?.c ?? 0),
      cachedPromptTokens: Number(t?.k ?? 0),
      modelCalls: Number(t?.m ?? 0),
      runs: Number(t?.n ?? 0),
      tools: tools.map((r) => ({ tool: String(r.tool), calls: Number(r.calls) })),
    };
  }

  /**
   * A lease row per conversation: taken when free or expired, renewed while held, deleted on release. Rows
   * (not session advisory locks) so no connection is held for a whole turn and a crashed replica's turn
   * frees the conversation after `leaseMs`.
   */
  async acquire(id: string, options: AcquireOptions = {}): Promise<ConversationLease> {
    await this.ready;
    const token = `${this.owner}:${randomUUID()}`;
    const started = Date.now();
    const timeout = options.timeoutMs ?? 120_000;
    let wait = 5;
    for (;;) {
      const rows = await this.driver.query(
        `INSERT INTO conversation_leases (conversation_id, owner, expires_at)
              VALUES ($1, $2, now() + $3 * interval '1 millisecond')
         ON CONFLICT (conversation_id) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
              WHERE conversation_leases.expires_at < now()
         RETURNING owner`,
        [id, token, this.leaseMs],
      );
      if (rows.length && rows[0]!.owner === token) break;
      if (Date.now() - started > timeout) throw new LeaseTimeoutError(id, Date.now() - started);
      // Jittered back-off between polls: 5 ms doubling up to 200 ms.
      await abortableSleep(wait / 2 + Math.random() * wait, options.signal);
      wait = Math.min(wait * 2, 200);
    }
    const renew = setInterval(
      () => {
        void this.driver
          .query(
            `UPDATE conversation_leases SET expires_at = now() + $3 * interval '1 millisecond'
              WHERE conversation_id = $1 AND owner = $2`,
            [id, token, this.leaseMs],
          )
          .catch(() => {});
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renew);
        await this.driver.query('DELETE FROM conversation_leases WHERE conversation_id = $1 AND owner = $2', [
          id,
          token,
        ]);
      },
    };
  }

  async generation(id: string): Promise<number> {
    await this.ready;
    const [row] = await this.driver.query('SELECT generation FROM conversation_generations WHERE id = $1', [
      id,
    ]);
    return Number(row?.generation ?? 0);
  }

  async nextGeneration(id: string): Promise<number> {
    await this.ready;
    const [row] = await this.driver.query(
      `INSERT INTO conversation_generations (id, generation) VALUES ($1, 1)
       ON CONFLICT (id) DO UPDATE SET generation = conversation_generations.generation + 1
       RETURNING generation`,
      [id],
    );
    return Number(row?.generation ?? 1);
  }

  async claim(key: string): Promise<boolean> {
    await this.ready;
    const rows = await this.driver.query(
      'INSERT INTO message_claims (key) VALUES ($1) ON CONFLICT (key) DO NOTHING RETURNING key',
      [key],
    );
    return rows.length === 1;
  }

  async dispose(): Promise<void> {
    this.cache?.clear();
    await this.ready.catch(() => {});
    await this.driver.close();
  }
}
