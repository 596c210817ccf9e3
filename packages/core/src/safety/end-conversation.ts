import { z } from 'zod';
import { defineFunction, type FunctionTool } from '../functions/define.js';

/** The `meta` key by which the runtime recognises an end-conversation call. */
export const END_CONVERSATION_META = 'harmonia.endConversation';

/**
 * `functions.end_conversation`: lets the agent close a conversation it judges unreasonable (abuse, spam,
 * off-topic loops). The runtime records the reason in the store, and later messages get no model call.
 */
export function endConversationFunction(): FunctionTool {
  return defineFunction({
    name: 'end_conversation',
    description:
      'Ends this conversation permanently. Use only when the user is abusive or keeps asking for things you must refuse. Write a short closing message afterwards.',
    parameters: z.object({
      reason: z.string().min(1).describe('Why the conversation is ended, for the operators'),
    }),
    execute: ({ reason }) => ({
      text: 'Conversation closed. Write one short, polite closing message as your final answer.',
      meta: { [END_CONVERSATION_META]: reason },
    }),
  });
}
