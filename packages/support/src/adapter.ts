import type { SupportBot, SupportReply } from './bot.js';

/** One incoming chat message, platform-neutral. */
export interface ChatMessage {
  /** One per thread or DM: the bot keeps one conversation per id. */
  conversationId: string;
  text: string;
  /** Display name or id of the sender (recorded with moderator actions). */
  author: string;
  isModerator: boolean;
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
  /** Longest message the platform accepts (Discord 2000, Slack 40000); longer answers are cut. */
  maxLength?: number;
  /** Stream the answer with edits (default true); false posts once, when the answer is complete. */
  stream?: boolean;
  /** Re-sends the typing indicator this often while the model works (Discord's lasts ~10 s). */
  typingIntervalMs?: number;
}

export interface ChatAdapter {
  /** Handles one message: a moderator command, or a question for the bot. Resolves when all posting is done. */
  onMessage(msg: ChatMessage, sink: ChatSink): Promise<SupportReply | undefined>;
}

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

  const render = (text: string) => {
    const linked = text.replace(/\[faq:([^\]\s]+)\]/g, (_m, id: string) => {
      const label = id.replace(/#\d+$/, '').replace(/\.(md|markdown|html?|txt)$/, '');
      const url = options.link?.(id);
      return url ? options.formatLink(url, label) : `(${label})`;
    });
    return linked.length > maxLength ? `${linked.slice(0, maxLength - 1)}…` : linked;
  };

  async function command(msg: ChatMessage, sink: ChatSink): Promise<boolean> {
    const m = new RegExp(`^${escapeRe(prefix)}(reset|close)\\b\\s*(.*)$`, 's').exec(msg.text.trim());
    if (!m) return false;
    if (!msg.isModerator) {
      await sink.post('Only moderators can do that.');
      return true;
    }
    if (m[1] === 'reset') {
      bot.reset(msg.conversationId);
      await sink.post('Conversation reset. Ask me anything about the product.');
    } else {
      const reason = m[2]?.trim() || 'closed by a moderator';
      await bot.close(msg.conversationId, reason, msg.author);
      await sink.post(`Conversation closed: ${reason}`);
    }
    return true;
  }

  async function answer(msg: ChatMessage, sink: ChatSink): Promise<SupportReply | undefined> {
    await sink.typing();
    const typing = options.typingIntervalMs
      ? setInterval(() => void sink.typing().catch(() => {}), options.typingIntervalMs)
      : undefined;
    let posted: string | undefined;
    let lastEdit = 0;
    let reply: SupportReply | undefined;
    const show = async (text: string, force: boolean) => {
      const out = render(text);
      if (!out.trim() || out === posted) return;
      if (posted === undefined) {
        await sink.post(out);
        posted = out;
        lastEdit = Date.now();
      } else if (force || Date.now() - lastEdit >= interval) {
        await sink.edit(out);
        posted = out;
        lastEdit = Date.now();
      }
    };
    try {
      let latest = '';
      for await (const ev of bot.stream(msg.conversationId, msg.text)) {
        if (ev.type === 'text') {
          latest = ev.text;
          if (options.stream !== false) await show(latest, false);
        } else reply = ev.reply;
      }
      await show(reply?.text ?? latest, true);
      // A streamed answer that was withdrawn (guardrail) and replaced by nothing must not stay visible.
      if (posted !== undefined && !render(reply?.text ?? '').trim()) await sink.edit('…');
    } finally {
      if (typing) clearInterval(typing);
    }
    return reply;
  }

  return {
    onMessage(msg, sink) {
      if (!msg.text.trim()) return Promise.resolve(undefined);
      // One message at a time per conversation, so history and the reply cap stay consistent.
      const prev = queues.get(msg.conversationId) ?? Promise.resolve();
      const next = prev
        .catch(() => {})
        .then(async () => ((await command(msg, sink)) ? undefined : answer(msg, sink)));
      queues.set(msg.conversationId, next);
      void next.finally(() => {
        if (queues.get(msg.conversationId) === next) queues.delete(msg.conversationId);
      });
      return next;
    },
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
