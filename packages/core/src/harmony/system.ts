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

/** One structured-output format for the developer message. */
export interface ResponseFormat {
  /** Letters, digits, `_`. */
  name: string;
  description?: string;
  schema: unknown;
}

/** The `# Response Formats` section gpt-oss reads structured-output schemas from (developer instructions). */
export function renderResponseFormats(formats: readonly ResponseFormat[]): string {
  const lines = ['# Response Formats'];
  for (const f of formats) {
    lines.push('', `## ${f.name}`, '');
    if (f.description) lines.push(`// ${f.description}`);
    lines.push(JSON.stringify(f.schema));
  }
  return lines.join('\n');
}
