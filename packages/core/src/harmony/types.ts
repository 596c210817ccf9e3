/**
 * The Harmony data model, in the same JSON shape as openai-harmony's serde form
 * (see shared/harmony/vectors/inline_cases.json). Field names are snake_case on purpose:
 * a conversation serialised with JSON.stringify is accepted by the official library and vice versa.
 */

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

/** Reasoning effort as the serde form writes it. */
export type SerdeReasoningEffort = 'Low' | 'Medium' | 'High';

/** Reasoning effort as Harmonia's own API takes it. */
export type ReasoningEffort = 'low' | 'medium' | 'high';

/** A JSON Schema object; key order is significant when rendered. */
export type JsonSchema = { [key: string]: unknown };

export interface ToolDescription {
  name: string;
  description: string;
  parameters?: JsonSchema | null;
}

export interface ToolNamespaceConfig {
  name: string;
  description?: string | null;
  tools: ToolDescription[];
}

export interface ChannelConfig {
  valid_channels: string[];
  channel_required: boolean;
}

export interface TextContent {
  type: 'text';
  text: string;
}

export interface SystemContent {
  type: 'system_content';
  model_identity?: string | null;
  reasoning_effort?: SerdeReasoningEffort | null;
  tools?: Record<string, ToolNamespaceConfig> | null;
  conversation_start_date?: string | null;
  knowledge_cutoff?: string | null;
  channel_config?: ChannelConfig | null;
}

export interface DeveloperContent {
  type: 'developer_content';
  instructions?: string | null;
  tools?: Record<string, ToolNamespaceConfig> | null;
}

export type Content = TextContent | SystemContent | DeveloperContent;

export interface Message {
  role: Role;
  /** For tool messages: the tool that answered, e.g. `functions.lookup_weather` or `browser.search`. */
  name?: string | null;
  /** Who the message is addressed to: `functions.x`, `browser.search`, `python`, `assistant`, ... */
  recipient?: string | null;
  channel?: string | null;
  /** e.g. `<|constrain|>json`, `json`, `code`. */
  content_type?: string | null;
  content: Content[];
}

export interface Conversation {
  messages: Message[];
}
