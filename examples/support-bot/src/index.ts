/**
 * Template: a support bot for your own product. It is the Harmonia support bot (`@harmonia/support`) over the
 * docs in `../docs` — here the docs of Kestrel, a fictional smart thermostat. To make it yours, replace the docs
 * folder and the policy below.
 */
import { fileURLToPath } from 'node:url';
import { createFaqAgent, type FaqAgent, type FaqAgentOptions, type TopicPolicy } from '@harmonia/support';

/** The product docs the bot answers from. */
export const KESTREL_DOCS = fileURLToPath(new URL('../docs/', import.meta.url));

export const KESTREL_POLICY: TopicPolicy = {
  product: 'Kestrel',
  allowed: [
    'installing and wiring the Kestrel thermostat',
    'Wi-Fi pairing, schedules, the app and integrations',
    'the Kestrel Plus subscription, billing and warranty',
  ],
  refused: ['electrical work beyond the thermostat itself', 'other brands of thermostat'],
};

/** The Kestrel support bot: indexes the docs (incrementally), then answers with FAQ search and citations. */
export function createKestrelBot(options: Omit<FaqAgentOptions, 'docsDir'> = {}): Promise<FaqAgent> {
  return createFaqAgent({
    docsDir: KESTREL_DOCS,
    ...options,
    support: { policy: KESTREL_POLICY, ...options.support },
  });
}
