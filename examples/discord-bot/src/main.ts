#!/usr/bin/env node
/**
 * `pnpm --filter @harmonia/discord-bot start`: the FAQ support agent on Discord. Configuration:
 *   DISCORD_TOKEN            bot token (required)
 *   HARMONIA_BACKEND         Ollama or vLLM URL, ollama:MODEL, ... (required)
 *   DISCORD_MODERATOR_ROLES  comma-separated role ids allowed to !reset / !close (Manage Messages works too)
 *   HARMONIA_DOCS            docs folder (default: the bundled Harmonia docs)
 *   HARMONIA_DB              LanceDB folder or s3:// URI
 *   DOCS_BASE_URL            where the docs are published, for citation links
 *   HARMONIA_MAX_REPLIES     replies per conversation (default 5)
 *   HARMONIA_STORE           conversations and tickets: a folder (embedded, default
 *                            ~/.cache/harmonia/store/discord-bot) or postgres://… (several replicas)
 *   HEALTH_PORT              port for GET /healthz (default 8080; 0 turns it off)
 *   SHUTDOWN_DEADLINE_MS     how long answers in flight may finish on SIGTERM (default 20000)
 *   RATE_LIMIT               questions per user per minute (default 6; 0 turns it off)
 *   LOG_LEVEL                pino level (default info); logs are JSON lines on stdout
 */
import { join } from 'node:path';
import { defaultStorePath, openStore } from '@harmonia/core';
import {
  createBotLogger,
  createChatAdapter,
  faqAgentFromEnv,
  rateLimitFromEnv,
  runBotOperations,
  startupExitCode,
} from '@harmonia/support';
import { DISCORD_MAX_LENGTH, startDiscordApp } from './app.js';

const env = process.env;
function required(name: string): string {
  const v = env[name];
  if (!v) {
    process.stderr.write(`discord-bot: set ${name} (see examples/discord-bot/README.md)\n`);
    process.exit(2);
  }
  return v;
}

const token = required('DISCORD_TOKEN');
const logger = createBotLogger('discord-bot', env);
try {
  const store = await openStore(env.HARMONIA_STORE || join(defaultStorePath(env), 'discord-bot'));
  const { bot, link, report } = await faqAgentFromEnv(env, { support: { store } });
  process.stdout.write(
    `indexed ${report.chunks} entries (${report.added.length + report.updated.length} files updated)\n`,
  );
  const adapter = createChatAdapter(bot, {
    link,
    formatLink: (url, label) => `[${label}](<${url}>)`,
    logger,
    rateLimit: rateLimitFromEnv(env.RATE_LIMIT),
    maxLength: DISCORD_MAX_LENGTH,
    typingIntervalMs: 8000,
  });
  const app = await startDiscordApp({
    token,
    adapter,
    logger,
    moderatorRoles: (env.DISCORD_MODERATOR_ROLES ?? '').split(',').filter(Boolean),
  });
  process.stdout.write(
    `discord-bot: logged in as ${app.client.user?.tag}; mention it in a channel or DM it\n`,
  );
  await runBotOperations({ adapter, stopApp: () => app.stop(), store, logger, env });
} catch (err) {
  const code = startupExitCode(err);
  if (code === undefined) throw err;
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(code);
}
