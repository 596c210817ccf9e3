#!/usr/bin/env node
/**
 * `pnpm --filter @harmonia/slack-bot start`: the FAQ support agent on Slack. Configuration:
 *   SLACK_BOT_TOKEN        xoxb-... (required)
 *   SLACK_SIGNING_SECRET   from the app's Basic Information page (required)
 *   HARMONIA_BACKEND       Ollama or vLLM URL, ollama:MODEL, ... (required)
 *   PORT                   HTTP port for /slack/events (default 3000)
 *   SLACK_MODERATORS       comma-separated user ids allowed to !reset / !close
 *   HARMONIA_DOCS, HARMONIA_DB, DOCS_BASE_URL, HARMONIA_MAX_REPLIES   as for the Discord bot
 */
import { BackendUnavailableError } from '@harmonia/core';
import { createChatAdapter, FaqConfigError, faqAgentFromEnv } from '@harmonia/support';
import { SLACK_MAX_LENGTH, startSlackApp } from './app.js';

const env = process.env;
function required(name: string): string {
  const v = env[name];
  if (!v) {
    process.stderr.write(`slack-bot: set ${name} (see examples/slack-bot/README.md)\n`);
    process.exit(2);
  }
  return v;
}

const token = required('SLACK_BOT_TOKEN');
const signingSecret = required('SLACK_SIGNING_SECRET');
try {
  const { bot, link, report } = await faqAgentFromEnv(env);
  process.stdout.write(`indexed ${report.chunks} entries\n`);
  const adapter = createChatAdapter(bot, {
    link,
    formatLink: (url, label) => `<${url}|${label}>`,
    maxLength: SLACK_MAX_LENGTH,
  });
  const app = await startSlackApp({
    token,
    signingSecret,
    adapter,
    port: Number(env.PORT ?? 3000),
    moderators: (env.SLACK_MODERATORS ?? '').split(',').filter(Boolean),
  });
  process.stdout.write(`slack-bot: listening on :${app.port}/slack/events\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => void app.stop().then(() => process.exit(0)));
} catch (err) {
  if (err instanceof BackendUnavailableError || err instanceof FaqConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
