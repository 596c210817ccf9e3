#!/usr/bin/env node
/**
 * `pnpm --filter @harmonia/slack-bot start`: the FAQ support agent on Slack. Configuration:
 *   SLACK_BOT_TOKEN        xoxb-... (required)
 *   SLACK_SIGNING_SECRET   from the app's Basic Information page (required for HTTP events)
 *   SLACK_APP_TOKEN        xapp-... app-level token with connections:write: Socket Mode instead of HTTP
 *                          (no public URL needed; SLACK_SIGNING_SECRET and PORT are then unused)
 *   HARMONIA_BACKEND       Ollama or vLLM URL, ollama:MODEL, ... (required)
 *   PORT                   HTTP port for /slack/events (default 3000)
 *   SLACK_MODERATORS       comma-separated user ids allowed to !reset / !close
 *   HARMONIA_DOCS, HARMONIA_DB, DOCS_BASE_URL, HARMONIA_MAX_REPLIES   as for the Discord bot
 *   HARMONIA_STORE           conversations and tickets: a folder (embedded, default
 *                            ~/.cache/harmonia/store/slack-bot) or postgres://… (several replicas)
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
const appToken = env.SLACK_APP_TOKEN || undefined;
const signingSecret = appToken ? undefined : required('SLACK_SIGNING_SECRET');
const logger = createBotLogger('slack-bot', env);
try {
  const store = await openStore(env.HARMONIA_STORE || join(defaultStorePath(env), 'slack-bot'));
  const { bot, link, report } = await faqAgentFromEnv(env, { support: { store } });
  process.stdout.write(`indexed ${report.chunks} entries\n`);
  const adapter = createChatAdapter(bot, {
    link,
    formatLink: (url, label) => `<${url}|${label}>`,
    logger,
    rateLimit: rateLimitFromEnv(env.RATE_LIMIT),
    maxLength: SLACK_MAX_LENGTH,
  });
  const app = await startSlackApp({
    token,
    ...(appToken ? { appToken } : { signingSecret }),
    adapter,
    logger,
    follows: async (id) => (await store.load(id)) !== null,
    port: Number(env.PORT ?? 3000),
    moderators: (env.SLACK_MODERATORS ?? '').split(',').filter(Boolean),
  });
  logger.info(
    app.mode === 'socket' ? { mode: 'socket' } : { mode: 'http', port: app.port },
    app.mode === 'socket' ? 'connected to Slack (Socket Mode)' : `listening on :${app.port}/slack/events`,
  );
  await runBotOperations({ adapter, stopApp: () => app.stop(), store, logger, env });
} catch (err) {
  const code = startupExitCode(err);
  if (code === undefined) throw err;
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(code);
}
