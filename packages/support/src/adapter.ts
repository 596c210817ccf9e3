import { randomUUID } from 'node:crypto';
import type { SupportBot, SupportReply } from './bot.js';
import { splitMessage } from './split.js';

/** One incoming chat message, platform-neutral. */
export interface ChatMessage {
  /** One per thread or DM: the bot keeps one conversation per id. */
  conversationId: string;
  text: string;
  /** Display name or id of the sender (recorded with moderator actions). */
  author: string;
  isModerator: boolean;
  /** The sender's stable id (rate limit key; default: `author`). */
  userId?: string;
  /**
   * The platform's id for this message. With a store that can claim keys (the SQL stores), replicas that all
   * receive the message answer it once.
   */
  messageId?: string;
}

/** The logger the adapter writes to: pino's call shape (a pino logger fits as is). */
export interface BotLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** How the platform shows the bot's answer. `edit` replaces the message `post` created last. */
export interface ChatSink {
  typing(): Promise<void>;
  post(text: string): Promise<void>;
  edit(text: string): Promise<void>;
}

export interface ChatAdapterOptions {
  /** Moderator commands are `<prefix>reset` and `<prefix>close [reason]` (default `!`). */
  commandPrefix?: string;
  /** The page for an FAQ entry id, for citations; entries without one are cited by name only. */
  link?: (id: string) => string | undefined;
  /** Platform link markup: Discord `[label](<url>)`, Slack `<url|label>`. */
  formatLink: (url: string, label: string) => string;
  /** Minimum time between edits of a streamed answer (default 1200 ms: under Discord's and Slack's limits). */
  editIntervalMs?: number;
  /**
   * Longest message the platform accepts (Discord 2000, Slack 40000); longer answers go out as several
   * messages, split on paragraph, code-block, line or sentence boundaries.
   */
  maxLength?: number;
  /** Stream the answer with edits (default true); false posts once, when the answer is complete. */
  stream?: boolean;
  /** Re-sends the typing indicator this often while the model works (Discord's lasts ~10 s). */
  typingIntervalMs?: number;
  /** Where errors and one line per answered message go (default: nowhere). */
  logger?: BotLogger;
  /** Posted when the answer failed (model server down after retries, store error). */
  errorReply?: string;
  /** Per-user limit: at most `messages` questions per `perMs` (default 6 per minute); `false` turns it off. */
  rateLimit?: { messages: number; perMs: number } | false;
  /** Posted (once per window) when a user goes over the rate limit. */
  rateLimitReply?: string;
}

export interface ChatAdapter {
  /**
   * Handles one message: a moderator command, or a question for the bot. Resolves when all posting is done;
   * never rejects (failures are logged and answered with `errorReply`).
   */
  onMessage(msg: ChatMessage, sink: ChatSink): Promise<SupportReply | undefined>;
  /** Messages being handled now. */
  readonly inFlight: number;
  /**
   * Graceful stop: refuses new messages, waits up to `deadlineMs` for answers in flight, then aborts the rest
   * (their users get the error reply). Resolves when nothing is in flight.
   */
  drain(deadlineMs: number): Promise<{ finished: number; aborted: number }>;
}

export const DEFAULT_ERROR_REPLY =
  "Sorry, I couldn't answer that just now: something went wrong on my side. Please try again in a minute.";
export const DEFAULT_RATE_LIMIT_REPLY =
  "You're sending messages faster than I can answer. Please wait a moment.";

/**
 * The thin layer between a chat platform and the support bot: moderator commands, typing indicator, streamed
 * edits at a bounded rate, citations as links, one conversation at a time per thread. It only ever posts what
 * the bot yields as visible text, which never includes reasoning.
 */
export function createChatAdapter(bot: SupportBot, options: ChatAdapterOptions): ChatAdapter {
  const prefix = options.commandPrefix ?? '!';
  const interval = options.editIntervalMs ?? 1200;
  const maxLength = options.maxLength ?? 2000;
  const queues = new Map<string, Promise<unknown>>();
  const log = options.logger;
  const errorReply = options.errorReply ?? DEFAULT_ERROR_REPLY;
  const limit =
    options.rateLimit === false ? undefined : (options.rateLimit ?? { messages: 6, perMs: 60_000 });
  const recent = new Map<string, { times: number[]; warned: boolean }>();
  const running = new Set<AbortController>();
  let pending = 0;
  let draining = false;

  const render = (text: string) =>
    text.replace(/\[faq:([^\]\s]+)\]/g, (_m, id: string) => {
      const label = id.replace(/#\d+$/, '').replace(/\.(md|markdown|html?|txt)$/, '');
      const url = options.link?.(id);
      return url ? options.formatLink(url, label) : `(${label})`;
    });

  /** True when the user is over the limit (records the message otherwise). */
  const overLimit = (key: string): { over: boolean; warn: boolean } => {
    if (!limit) return { over: false, warn: false };
    const now = Date.now();
    const r = recent.get(key) ?? { times: [], warned: false };
    r.times = r.times.filter((t) => now - t < limit.perMs);
    if (r.times.length >= limit.messages) {
      const warn = !r.warned;
      r.warned = true;
      recent.set(key, r);
      return { over: true, warn };
    }
    r.times.push(now);
    r.warned = false;
    recent.set(key, r);
    if (recent.size > 10_000)
      for (const [k, v] of recent) if (!v.times.some((t) => now - t < limit.perMs)) recent.delete(k);
    return { over: false, warn: false };
  };

  async function command(msg: ChatMessage, sink: ChatSink): Promise<boolean> {
    const m = new RegExp(`^${escapeRe(prefix)}(reset|close)\\b\\s*(.*)$`, 's').exec(msg.text.trim());
    if (!m) return false;
    if (!msg.isModerator) {
      await sink.post('Only moderators can do that.');
      return true;
    }
    if (m[1] === 'reset') {
      await bot.reset(msg.conversationId);
      await sink.post('Conversation reset. Ask me anything about the product.');
    } else {
      const reason = m[2]?.trim() || 'closed by a moderator';
      await bot.close(msg.conversationId, reason, msg.author);
      await sink.post(`Conversation closed: ${reason}`);
    }
    return true;
  }

  async function answer(
    msg: ChatMessage,
    sink: ChatSink,
    signal: AbortSignal,
    turnId: string,
  ): Promise<SupportReply | undefined> {
    await sink.typing().catch(() => {});
    const typing = options.typingIntervalMs
      ? setInterval(() => void sink.typing().catch(() => {}), options.typingIntervalMs)
      : undefined;
    // Messages already posted for this answer (the last one is edited as the answer grows).
    const posted: string[] = [];
    let lastEdit = 0;
    let reply: SupportReply | undefined;
    const show = async (text: string, force: boolean) => {
      const out = render(text);
      if (!out.trim()) return;
      const parts = splitMessage(out, maxLength);
      for (let i = Math.max(0, posted.length - 1); i < parts.length; i++) {
        const part = parts[i]!;
        if (i < posted.length) {
          if (part === posted[i]) continue;
          // Edits of the growing last message are rate-limited; a message that is complete is settled at once.
          if (!force && i === parts.length - 1 && Date.now() - lastEdit < interval) continue;
          await sink.edit(part);
          posted[i] = part;
        } else {
          await sink.post(part);
          posted.push(part);
        }
        lastEdit = Date.now();
      }
    };
    try {
      let latest = '';
      for await (const ev of bot.stream(msg.conversationId, msg.text, signal, { turnId })) {
        if (ev.type === 'text') {
          latest = ev.text;
          if (options.stream !== false) await show(latest, false);
        } else if (ev.type === 'done') reply = ev.reply;
      }
      await show(reply?.text ?? latest, true);
      // A streamed answer that was withdrawn (guardrail) and replaced by nothing must not stay visible.
      if (posted.length && !render(reply?.text ?? '').trim()) await sink.edit('…');
    } finally {
      if (typing) clearInterval(typing);
    }
    return reply;
  }

  async function handle(msg: ChatMessage, sink: ChatSink): Promise<SupportReply | undefined> {
    const ctl = new AbortController();
    running.add(ctl);
    const t0 = Date.now();
    const turnId = randomUUID();
    const ctx = {
      conversationId: msg.conversationId,
      turnId,
      messageId: msg.messageId,
      user: msg.userId ?? msg.author,
    };
    try {
      if (msg.messageId && bot.store.claim && !(await bot.store.claim(msg.messageId))) {
        log?.info({ ...ctx }, 'message already taken by another replica');
        return undefined;
      }
      if (await command(msg, sink)) return undefined;
      const reply = await answer(msg, sink, ctl.signal, turnId);
      log?.info(
        {
          ...ctx,
          status: reply?.status,
          ms: Date.now() - t0,
          ...(reply?.stop ? { stop: reply.stop } : {}),
          ...(reply?.escalated ? { escalated: reply.escalated.summary } : {}),
        },
        'answered',
      );
      return reply;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      log?.error({ ...ctx, err: { name: e.name, message: e.message }, ms: Date.now() - t0 }, 'answer failed');
      await sink.post(errorReply).catch((postErr: unknown) => {
        log?.error(
          { ...ctx, err: { message: (postErr as Error)?.message } },
          'could not post the error reply',
        );
      });
      return undefined;
    } finally {
      running.delete(ctl);
    }
  }

  return {
    get inFlight() {
      return pending;
    },
    onMessage(msg, sink) {
      if (!msg.text.trim()) return Promise.resolve(undefined);
      if (draining) {
        log?.warn({ conversationId: msg.conversationId }, 'message refused: shutting down');
        return Promise.resolve(undefined);
      }
      const rl = overLimit(msg.userId ?? msg.author);
      if (rl.over) {
        log?.warn({ conversationId: msg.conversationId, user: msg.userId ?? msg.author }, 'rate limited');
        return rl.warn
          ? sink.post(options.rateLimitReply ?? DEFAULT_RATE_LIMIT_REPLY).then(
              () => undefined,
              () => undefined,
            )
          : Promise.resolve(undefined);
      }
      // One message at a time per conversation in this process (the store's lease covers other replicas).
      pending++;
      const prev = queues.get(msg.conversationId) ?? Promise.resolve();
      const next = prev.catch(() => {}).then(() => handle(msg, sink));
      queues.set(msg.conversationId, next);
      void next.finally(() => {
        pending--;
        if (queues.get(msg.conversationId) === next) queues.delete(msg.conversationId);
      });
      return next;
    },
    async drain(deadlineMs) {
      draining = true;
      const before = pending;
      const all = () => Promise.allSettled([...queues.values()]);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        all().then(() => false),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(true), deadlineMs);
        }),
      ]);
      clearTimeout(timer);
      let aborted = 0;
      if (timedOut) {
        aborted = pending;
        for (const c of running) c.abort(new Error('shutting down'));
        await all();
      }
      return { finished: before - aborted, aborted };
    },
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
