import type { BotLogger, ChatAdapter, ChatSink } from '@harmonia/support';
import {
  ChannelType,
  Client,
  Events,
  GatewayIntentBits,
  type Message,
  Partials,
  PermissionFlagsBits,
  type SendableChannels,
} from 'discord.js';

export interface DiscordAppOptions {
  token: string;
  adapter: ChatAdapter;
  /** Role ids whose members may `!reset` / `!close`; members with Manage Messages may too. */
  moderatorRoles?: readonly string[];
  /** REST base for tests (`http://127.0.0.1:PORT/api`); the gateway URL then comes from that server too. */
  restApi?: string;
  /** Open a thread for each question asked in a channel (default true); false replies in the channel. */
  threads?: boolean;
  /** Client and handler errors go here (default: stderr). The process never exits on them. */
  logger?: BotLogger;
}

export interface DiscordApp {
  client: Client;
  stop(): Promise<void>;
}

/** Discord's limit per message. */
export const DISCORD_MAX_LENGTH = 2000;

/**
 * The support bot on Discord: answers when mentioned (in a new thread per question), in its own threads, and
 * in DMs; one conversation per thread or DM. discord.js queues requests per route and waits out 429s itself.
 */
export async function startDiscordApp(options: DiscordAppOptions): Promise<DiscordApp> {
  const client = new Client({
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent,
      GatewayIntentBits.DirectMessages,
    ],
    partials: [Partials.Channel],
    ...(options.restApi ? { rest: { api: options.restApi, retries: 0 } } : {}),
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  const logError = (what: string, err: unknown, extra: object = {}) => {
    const e = err instanceof Error ? err : new Error(String(err));
    if (options.logger) options.logger.error({ ...extra, err: { name: e.name, message: e.message } }, what);
    else process.stderr.write(`discord-bot: ${what}: ${e.message}\n`);
  };
  // Without listeners, an 'error' event would throw and end the process.
  client.on(Events.Error, (err) => logError('discord client error', err));
  client.on(Events.ShardError, (err, shardId) => logError('discord gateway error', err, { shardId }));
  client.on(Events.MessageCreate, (msg) => {
    void handle(msg).catch((err: unknown) => logError('message handling failed', err, { messageId: msg.id }));
  });

  async function handle(msg: Message): Promise<void> {
    const me = client.user;
    if (!me || msg.author.bot) return;
    const channel = msg.channel;
    let target: SendableChannels;
    let conversationId: string;
    let text = msg.content.replace(new RegExp(`<@!?${me.id}>`, 'g'), '').trim();
    if (channel.type === ChannelType.DM) {
      target = channel;
      conversationId = `dm:${msg.author.id}`;
    } else if (channel.isThread() && channel.ownerId === me.id) {
      target = channel;
      conversationId = `thread:${channel.id}`;
    } else if (msg.mentions.users.has(me.id) && channel.isSendable()) {
      if (options.threads !== false && channel.type === ChannelType.GuildText) {
        const thread = await msg.startThread({ name: threadName(text) });
        target = thread;
        conversationId = `thread:${thread.id}`;
      } else {
        target = channel;
        conversationId = `channel:${channel.id}:${msg.author.id}`;
      }
    } else return;
    if (!text) text = 'hello';
    await options.adapter.onMessage(
      {
        conversationId,
        text,
        author: msg.author.username,
        userId: `discord:${msg.author.id}`,
        messageId: `discord:${msg.id}`,
        isModerator: isModerator(msg, options.moderatorRoles),
      },
      discordSink(target),
    );
  }

  await client.login(options.token);
  await ready;
  return {
    client,
    async stop() {
      await client.destroy();
    },
  };
}

function discordSink(channel: SendableChannels): ChatSink {
  let last: Message | undefined;
  return {
    typing: async () => {
      await channel.sendTyping();
    },
    post: async (text) => {
      last = await channel.send({ content: text, allowedMentions: { parse: [] } });
    },
    edit: async (text) => {
      if (last) await last.edit({ content: text, allowedMentions: { parse: [] } });
      else last = await channel.send({ content: text, allowedMentions: { parse: [] } });
    },
  };
}

function isModerator(msg: Message, roles: readonly string[] = []): boolean {
  const member = msg.member;
  if (!member) return false;
  if (roles.some((r) => member.roles.cache.has(r))) return true;
  try {
    return member.permissions.has(PermissionFlagsBits.ManageMessages);
  } catch {
    return false;
  }
}

function threadName(question: string): string {
  const name = question.replace(/\s+/g, ' ').trim().slice(0, 90);
  return name || 'Support question';
}
