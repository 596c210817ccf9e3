/**
 * Harmony messages in openai-harmony's serde JSON form: validation of untrusted input (a conversation read from
 * stdin or a file) and the fully written-out output shape (every field present, `null` where absent).
 */
import { HarmonyInputError } from './errors.js';
import type {
  ChannelConfig,
  Content,
  Conversation,
  Message,
  Role,
  SerdeReasoningEffort,
  ToolDescription,
  ToolNamespaceConfig,
} from './types.js';

const ROLES: readonly Role[] = ['system', 'developer', 'user', 'assistant', 'tool'];
const EFFORTS: Record<string, SerdeReasoningEffort> = { low: 'Low', medium: 'Medium', high: 'High' };

type Obj = { [key: string]: unknown };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function optString(o: Obj, key: string, path: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string')
    throw new HarmonyInputError(`${path}.${key}`, `expected a string or null, got ${typeof v}`);
  return v;
}

function toolsMap(v: unknown, path: string): Record<string, ToolNamespaceConfig> | null {
  if (v === undefined || v === null) return null;
  if (!isObj(v)) throw new HarmonyInputError(path, 'expected an object of tool namespaces keyed by name');
  const out: Record<string, ToolNamespaceConfig> = {};
  for (const [key, ns] of Object.entries(v)) {
    const p = `${path}.${key}`;
    if (!isObj(ns)) throw new HarmonyInputError(p, 'expected a tool namespace object');
    const name = optString(ns, 'name', p) ?? key;
    if (!Array.isArray(ns.tools)) throw new HarmonyInputError(`${p}.tools`, 'expected an array of tools');
    const tools: ToolDescription[] = ns.tools.map((t, i) => {
      const tp = `${p}.tools[${i}]`;
      if (!isObj(t)) throw new HarmonyInputError(tp, 'expected a tool object');
      const tname = optString(t, 'name', tp);
      if (tname === null) throw new HarmonyInputError(`${tp}.name`, 'a tool needs a name');
      const params = t.parameters;
      if (params !== undefined && params !== null && !isObj(params)) {
        throw new HarmonyInputError(`${tp}.parameters`, 'expected a JSON Schema object or null');
      }
      return { name: tname, description: optString(t, 'description', tp) ?? '', parameters: params ?? null };
    });
    out[key] = { name, description: optString(ns, 'description', p), tools };
  }
  return out;
}

function channelConfig(v: unknown, path: string): ChannelConfig | null {
  if (v === undefined || v === null) return null;
  if (!isObj(v) || !Array.isArray(v.valid_channels) || v.valid_channels.some((c) => typeof c !== 'string')) {
    throw new HarmonyInputError(path, 'expected {valid_channels: string[], channel_required: boolean}');
  }
  return { valid_channels: v.valid_channels as string[], channel_required: v.channel_required === true };
}

function contentFromJson(v: unknown, path: string): Content {
  if (!isObj(v)) throw new HarmonyInputError(path, 'expected a content object with a "type"');
  switch (v.type) {
    case 'text': {
      if (typeof v.text !== 'string') throw new HarmonyInputError(`${path}.text`, 'expected a string');
      return { type: 'text', text: v.text };
    }
    case 'system_content': {
      const effort = optString(v, 'reasoning_effort', path);
      let reasoning: SerdeReasoningEffort | null = null;
      if (effort !== null) {
        const e = EFFORTS[effort.toLowerCase()];
        if (e === undefined)
          throw new HarmonyInputError(
            `${path}.reasoning_effort`,
            `expected Low, Medium or High, got '${effort}'`,
          );
        reasoning = e;
      }
      return {
        type: 'system_content',
        model_identity: optString(v, 'model_identity', path),
        reasoning_effort: reasoning,
        tools: toolsMap(v.tools, `${path}.tools`),
        conversation_start_date: optString(v, 'conversation_start_date', path),
        knowledge_cutoff: optString(v, 'knowledge_cutoff', path),
        channel_config: channelConfig(v.channel_config, `${path}.channel_config`),
      };
    }
    case 'developer_content':
      return {
        type: 'developer_content',
        instructions: optString(v, 'instructions', path),
        tools: toolsMap(v.tools, `${path}.tools`),
      };
    default:
      throw new HarmonyInputError(
        `${path}.type`,
        `expected "text", "system_content" or "developer_content", got ${JSON.stringify(v.type)}`,
      );
  }
}

/** Validates one message in serde form; `content` may be a plain string (one text item). */
export function messageFromJson(v: unknown, path = 'message'): Message {
  if (!isObj(v)) throw new HarmonyInputError(path, 'expected a message object');
  if (typeof v.role !== 'string' || !ROLES.includes(v.role as Role)) {
    throw new HarmonyInputError(
      `${path}.role`,
      `expected one of ${ROLES.join(', ')}, got ${JSON.stringify(v.role)}`,
    );
  }
  let content: Content[];
  if (typeof v.content === 'string') content = [{ type: 'text', text: v.content }];
  else if (Array.isArray(v.content))
    content = v.content.map((c, i) => contentFromJson(c, `${path}.content[${i}]`));
  else throw new HarmonyInputError(`${path}.content`, 'expected a string or an array of content items');
  return {
    role: v.role as Role,
    name: optString(v, 'name', path),
    recipient: optString(v, 'recipient', path),
    channel: optString(v, 'channel', path),
    content_type: optString(v, 'content_type', path),
    content,
  };
}

/** Validates `{"messages": [...]}` (a bare array of messages is accepted too). */
export function conversationFromJson(v: unknown): Conversation {
  const list = Array.isArray(v) ? v : isObj(v) ? v.messages : undefined;
  if (!Array.isArray(list)) throw new HarmonyInputError('conversation', 'expected {"messages": [...]}');
  return { messages: list.map((m, i) => messageFromJson(m, `messages[${i}]`)) };
}

/** A message with every serde field written out (`null` where absent), as openai-harmony serialises it. */
export function messageToJson(m: Message): Message {
  return {
    role: m.role,
    name: m.name ?? null,
    recipient: m.recipient ?? null,
    channel: m.channel ?? null,
    content_type: m.content_type ?? null,
    content: typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content,
  };
}
