import type { Server } from 'node:http';
import type { BotLogger, ChatAdapter, ChatSink } from '@harmonia/support';
import { App, LogLevel, type webApi } from '@slack/bolt';

type WebClient = webApi.WebClient;

export interface SlackAppOptions {
  token: string;
  /** For the HTTP receiver (`POST /slack/events`); not needed in Socket Mode. */
  signingSecret?: string;
  /**
   * An app-level token (`xapp-…`, scope `connections:write`): Socket Mode — the bot opens a WebSocket to Slack
   * instead of taking HTTP requests, so it needs no public URL.
   */
  appToken?: string;
  adapter: ChatAdapter;
  /** User ids allowed to `!reset` / `!close` a conversation. */
  moderators?: readonly string[];
  /** Port for Bolt's HTTP receiver (`POST /slack/events`); 0 picks a free one. */
  port?: number;
  /** Web API base for tests (`http://127.0.0.1:PORT/api/`). */
  slackApiUrl?: string;
  /** Answer before acknowledging the event (tests; Slack wants an ack within 3 s, so off by default). */
  processBeforeResponse?: boolean;
  /**
   * Whether the bot follows a thread it answered before (a restart or another replica answered it). Default:
   * only threads this process answered; the bots pass a store lookup.
   */
  follows?: (conversationId: string) => Promise<boolean>;
  /** Listener and client errors go here (default: stderr). The process never exits on them. */
  logger?: BotLogger;
}

export interface SlackApp {
  app: App;
  mode: 'http' | 'socket';
  /** The HTTP receiver's server (HTTP mode only). */
  server?: Server;
  port?: number;
  stop(): Promise<void>;
}

/** Slack's practical limit for one message's text. */
export const SLACK_MAX_LENGTH = 40_000;

interface SlackMessageEvent {
  channel: string;
  user?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  channel_type?: string;
  bot_id?: string;
  subtype?: string;
}

/**
 * The support bot on Slack, over Bolt's HTTP receiver or Socket Mode (`appToken`): answers mentions in the message's thread, follow-ups in
 * threads it is part of, and DMs; one conversation per thread or DM. Answers stream in with `chat.update`
 * (Slack has no typing indicator for bot tokens). Bolt's WebClient waits out 429s by itself.
 */
export async function startSlackApp(options: SlackAppOptions): Promise<SlackApp> {
  const socket = options.appToken !== undefined;
  if (!socket && !options.signingSecret)
    throw new TypeError('startSlackApp: give signingSecret (HTTP events) or appToken (Socket Mode)');
  const clientOptions = options.slackApiUrl
    ? { slackApiUrl: options.slackApiUrl, retryConfig: { retries: 0 } }
    : undefined;
  const app = new App({
    token: options.token,
    logLevel: LogLevel.WARN,
    ...(clientOptions ? { clientOptions } : {}),
    ...(socket
      ? {
          socketMode: true,
          appToken: options.appToken,
          // The Socket Mode client makes its own apps.connections.open call with these options.
          ...(clientOptions ? { installerOptions: { clientOptions } } : {}),
        }
      : {
          signingSecret: options.signingSecret,
          processBeforeResponse: options.processBeforeResponse ?? false,
        }),
  });
  const threads = new Set<string>();
  const moderators = new Set(options.moderators ?? []);

  const handle = async (client: WebClient, ev: SlackMessageEvent, botUserId: string | undefined) => {
    if (ev.bot_id || ev.subtype || !ev.user || (botUserId && ev.user === botUserId)) return;
    const text = (ev.text ?? '').replace(/<@[A-Z0-9]+>/g, '').trim() || 'hello';
    const isDm = ev.channel_type === 'im';
    const threadTs = isDm ? ev.thread_ts : (ev.thread_ts ?? ev.ts);
    const conversationId =
      isDm && !ev.thread_ts ? `dm:${ev.channel}:${ev.user}` : `thread:${ev.channel}:${threadTs}`;
    if (!isDm) threads.add(conversationId);
    await options.adapter.onMessage(
      {
        conversationId,
        text,
        author: ev.user,
        userId: `slack:${ev.user}`,
        messageId: `slack:${ev.channel}:${ev.ts}`,
        isModerator: moderators.has(ev.user),
      },
      slackSink(client, ev.channel, threadTs),
    );
  };

  app.event('app_mention', async ({ event, client, context }) => {
    await handle(client, { ...(event as SlackMessageEvent), channel_type: 'channel' }, context.botUserId);
  });
  app.message(async ({ message, client, context }) => {
    const ev = message as SlackMessageEvent;
    if (ev.channel_type === 'im') return handle(client, ev, context.botUserId);
    // Follow-ups without a mention, in threads the bot answers in (mentions arrive as app_mention).
    const id = `thread:${ev.channel}:${ev.thread_ts}`;
    const mentionsBot = context.botUserId && ev.text?.includes(`<@${context.botUserId}>`);
    if (!ev.thread_ts || mentionsBot) return;
    if (threads.has(id) || (await options.follows?.(id))) return handle(client, ev, context.botUserId);
  });

  app.error(async (err) => {
    if (options.logger)
      options.logger.error({ err: { name: err.name, message: err.message } }, 'slack error');
    else process.stderr.write(`slack-bot: ${err.message}\n`);
  });

  if (socket) {
    await app.start();
    return {
      app,
      mode: 'socket',
      async stop() {
        await app.stop();
      },
    };
  }
  const server = (await app.start(options.port ?? 3000)) as Server;
  const address = server.address();
  return {
    app,
    mode: 'http',
    server,
    port: typeof address === 'object' && address ? address.port : (options.port ?? 3000),
    async stop() {
      await app.stop();
    },
  };
}

function slackSink(client: WebClient, channel: string, threadTs: string | undefined): ChatSink {
  let ts: string | undefined;
  return {
    // Bot tokens have no typing indicator on Slack; the first streamed sentence arrives quickly instead.
    typing: async () => {},
    post: async (text) => {
      const res = await client.chat.postMessage({
        channel,
        text,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        unfurl_links: false,
      });
      ts = res.ts;
    },
    edit: async (text) => {
      if (ts) await client.chat.update({ channel, ts, text });
      else {
        const res = await client.chat.postMessage({
          channel,
          text,
          ...(threadTs ? { thread_ts: threadTs } : {}),
        });
        ts = res.ts;
      }
    },
  };
}
