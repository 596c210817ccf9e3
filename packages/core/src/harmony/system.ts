import type { SystemContent } from './types.js';

/** `SystemContent::new()` defaults (identity, medium effort, 2024-06 cutoff, required channels), overridable. */
export function systemContent(overrides?: Partial<Omit<SystemContent, 'type'>>): SystemContent {
  return {
    type: 'system_content',
    model_identity: 'You are ChatGPT, a large language model trained by OpenAI.',
    reasoning_effort: 'Medium',
    tools: null,
    conversation_start_date: null,
    knowledge_cutoff: '2024-06',
    channel_config: { valid_channels: ['analysis', 'commentary', 'final'], channel_required: true },
    ...overrides,
  };
}
