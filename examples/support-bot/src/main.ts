#!/usr/bin/env node
/**
 * `pnpm --filter @harmonia/example-support-bot start "question" ...`: asks the Kestrel bot each question.
 * The backend comes from HARMONIA_BACKEND (an Ollama or vLLM URL, ollama:MODEL, script:FILE).
 */
import { BackendUnavailableError } from '@harmonia/core';
import { faqBackend } from '@harmonia/support';
import { createKestrelBot } from './index.js';

try {
  const { bot, index } = await createKestrelBot({ backend: await faqBackend(process.env.HARMONIA_BACKEND) });
  for (const question of process.argv.slice(2)) {
    const reply = await bot.ask('cli', question);
    process.stdout.write(`${reply.text}\n`);
  }
  index.close();
} catch (err) {
  if (!(err instanceof BackendUnavailableError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
