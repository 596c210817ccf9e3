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
 */
import { BackendUnavailableError } from '@harmonia/core';
import { createChatAdapter, FaqConfigError, faqAgentFromEnv } from '@harmonia/support';
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
try {
  const { bot, link, report } = await faqAgentFromEnv(env);
  process.stdout.write(
    `indexed ${report.chunks} entries (${report.added.length + report.updated.length} files updated)\n`,
  );
  const adapter = createChatAdapter(bot, {
    link,
    formatLink: (url, label) => `[${label}](<${url}>)`,
    maxLength: DISCORD_MAX_LENGTH,
    typingIntervalMs: 8000,
  });
  const app = await startDiscordApp({
    token,
    adapter,
    moderatorRoles: (env.DISCORD_MODERATOR_ROLES ?? '').split(',').filter(Boolean),
  });
  process.stdout.write(
    `discord-bot: logged in as ${app.client.user?.tag}; mention it in a channel or DM it\n`,
  );
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => void app.stop().then(() => process.exit(0)));
} catch (err) {
  if (err instanceof BackendUnavailableError || err instanceof FaqConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
