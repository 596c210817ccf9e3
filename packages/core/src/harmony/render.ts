/**
 * The Harmony renderer, token for token as openai-harmony v0.0.8 (`impl Render<Message>` and
 * `render_conversation_into` in `src/encoding.rs`; shared/spec/harmony.md §2). Every text piece is encoded as
 * ordinary text; only formatting tokens are inserted as special ids.
 */
import { HarmonyRenderError } from './errors.js';
import { jsonSchemaToTypeScript, rustLines } from './schema-ts.js';
import { encodeText } from './tokenizer.js';
import { Tok } from './tokens.js';
import type {
  Content,
  Conversation,
  DeveloperContent,
  Message,
  Role,
  SystemContent,
  ToolNamespaceConfig,
} from './types.js';

export interface RenderOptions {
  /**
   * The official `auto_drop_analysis`: when the last assistant message is on `final`, drop the `analysis`
   * messages that come before the FIRST `final` message of the conversation (bug-compatible with openai-harmony;
   * later turns' analysis is kept). Default `false`, like the official Rust/WASM API and the CLI; the Python
   * binding and gpt-oss's server use `true`.
   */
  autoDropAnalysis?: boolean;
}

export interface RenderMessageOptions {
  /** Adds the "Calls to these tools must go to the commentary channel" line to a system message. Default false. */
  conversationHasFunctionTools?: boolean;
}

const CONSTRAIN = '<|constrain|>';
const REASONING: Record<string, string> = { low: 'low', medium: 'medium', high: 'high' };

const utf8 = new TextEncoder();
function byteOrder(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

function nonEmptyTools(
  tools: Record<string, ToolNamespaceConfig> | null | undefined,
): [string, ToolNamespaceConfig][] {
  if (!tools) return [];
  return Object.entries(tools).sort(([a], [b]) => byteOrder(a, b));
}

/** The `# Tools` section (`template_tools_section`). Namespaces in byte-wise order of their keys. */
export function renderToolsSection(tools: Record<string, ToolNamespaceConfig>): string {
  const sections = ['# Tools'];
  for (const [, ns] of nonEmptyTools(tools)) {
    const lines = [`## ${ns.name}\n`];
    const hasTools = ns.tools.length > 0;
    if (ns.description != null)
      for (const l of rustLines(ns.description)) lines.push(hasTools ? `// ${l}` : l);
    if (hasTools) {
      lines.push(`namespace ${ns.name} {\n`);
      for (const tool of ns.tools) {
        for (const l of rustLines(tool.description ?? '')) lines.push(`// ${l}`);
        if (tool.parameters != null) {
          lines.push(`type ${tool.name} = (_: ${jsonSchemaToTypeScript(tool.parameters, '')}) => any;\n`);
        } else {
          lines.push(`type ${tool.name} = () => any;\n`);
        }
      }
      lines.push(`} // namespace ${ns.name}`);
    }
    sections.push(lines.join('\n'));
  }
  return sections.join('\n\n');
}

/** The text of a system message's content. */
export function renderSystemContentText(sc: SystemContent, conversationHasFunctionTools: boolean): string {
  const sections: string[] = [];
  const top: string[] = [];
  if (sc.model_identity != null) top.push(sc.model_identity);
  if (sc.knowledge_cutoff != null) top.push(`Knowledge cutoff: ${sc.knowledge_cutoff}`);
  if (sc.conversation_start_date != null) top.push(`Current date: ${sc.conversation_start_date}`);
  const topText = top.join('\n');
  if (topText !== '') sections.push(topText);
  if (sc.reasoning_effort != null) {
    const effort = REASONING[String(sc.reasoning_effort).toLowerCase()];
    if (effort === undefined)
      throw new HarmonyRenderError(`unknown reasoning_effort '${sc.reasoning_effort}'`);
    sections.push(`Reasoning: ${effort}`);
  }
  if (sc.tools && nonEmptyTools(sc.tools).length > 0) sections.push(renderToolsSection(sc.tools));
  const cc = sc.channel_config;
  if (cc && cc.valid_channels.length > 0) {
    let s = `# Valid channels: ${cc.valid_channels.join(', ')}.`;
    if (cc.channel_required) s += ' Channel must be included for every message.';
    if (conversationHasFunctionTools)
      s += "\nCalls to these tools must go to the commentary channel: 'functions'.";
    sections.push(s);
  }
  return sections.join('\n\n');
}

/** The text of a developer message's content. */
export function renderDeveloperContentText(dc: DeveloperContent): string {
  const sections: string[] = [];
  if (dc.instructions != null) sections.push('# Instructions', dc.instructions);
  if (dc.tools && nonEmptyTools(dc.tools).length > 0) sections.push(renderToolsSection(dc.tools));
  return sections.join('\n\n');
}

function pushAll(out: number[], ids: readonly number[]): void {
  for (const id of ids) out.push(id);
}

/** Content as a list of items (serde also allows a plain string = one text item). */
export function contentItems(content: Content[] | string): Content[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

function renderMessageInto(out: number[], m: Message, conversationHasFunctionTools: boolean): void {
  out.push(Tok.start);
  if (m.role === 'tool') {
    if (m.name == null)
      throw new HarmonyRenderError('Tools should have a name! (a tool message needs `name`)');
    pushAll(out, encodeText(m.name));
  } else {
    pushAll(out, encodeText(m.role));
    if (m.name != null) pushAll(out, encodeText(`:${m.name}`));
  }
  if (m.recipient != null && m.recipient !== 'all') pushAll(out, encodeText(` to=${m.recipient}`));
  if (m.channel != null) {
    out.push(Tok.channel);
    pushAll(out, encodeText(m.channel));
  }
  if (m.content_type != null) {
    if (m.content_type.startsWith(CONSTRAIN)) {
      pushAll(out, encodeText(' '));
      out.push(Tok.constrain);
      const rest = m.content_type.slice(CONSTRAIN.length);
      if (rest !== '') pushAll(out, encodeText(rest));
    } else {
      pushAll(out, encodeText(` ${m.content_type}`));
    }
  }
  out.push(Tok.message);
  for (const c of contentItems(m.content as Content[] | string)) {
    switch (c.type) {
      case 'text':
        pushAll(out, encodeText(c.text));
        break;
      case 'system_content':
        if (m.role !== 'system') throw new HarmonyRenderError(`system_content in a '${m.role}' message`);
        pushAll(out, encodeText(renderSystemContentText(c, conversationHasFunctionTools)));
        break;
      case 'developer_content':
        if (m.role !== 'developer')
          throw new HarmonyRenderError(`developer_content in a '${m.role}' message`);
        pushAll(out, encodeText(renderDeveloperContentText(c)));
        break;
      default:
        throw new HarmonyRenderError(`unknown content type '${(c as { type: unknown }).type}'`);
    }
  }
  out.push(m.role === 'assistant' && m.recipient != null ? Tok.call : Tok.end);
}

/** One message: `<|start|>` header `<|message|>` content, ended by `<|call|>` (assistant tool call) or `<|end|>`. */
export function renderMessage(message: Message, opts?: RenderMessageOptions): number[] {
  const out: number[] = [];
  renderMessageInto(out, message, opts?.conversationHasFunctionTools ?? false);
  return out;
}

/** Whether any developer message declares a non-empty `functions` namespace. */
export function conversationHasFunctionTools(messages: readonly Message[]): boolean {
  for (const m of messages) {
    for (const c of contentItems(m.content as Content[] | string)) {
      if (c.type === 'developer_content' && (c.tools?.functions?.tools.length ?? 0) > 0) return true;
    }
  }
  return false;
}

/** The messages that are rendered after `auto_drop_analysis` (see `RenderOptions`). */
export function messagesToRender(messages: readonly Message[], opts?: RenderOptions): readonly Message[] {
  if (!opts?.autoDropAnalysis) return messages;
  let lastAssistant: Message | undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'assistant') {
      lastAssistant = messages[i];
      break;
    }
  }
  if (lastAssistant?.channel !== 'final') return messages;
  const firstFinal = messages.findIndex((m) => m.channel === 'final');
  if (firstFinal < 0) return messages;
  return messages.filter((m, i) => !(i < firstFinal && m.channel === 'analysis'));
}

function renderInto(out: number[], conversation: Conversation, opts?: RenderOptions): void {
  const hasFunctions = conversationHasFunctionTools(conversation.messages);
  for (const m of messagesToRender(conversation.messages, opts)) renderMessageInto(out, m, hasFunctions);
}

export function renderConversation(conversation: Conversation, opts?: RenderOptions): number[] {
  const out: number[] = [];
  renderInto(out, conversation, opts);
  return out;
}

/** The prompt for the next model call: the conversation, then `<|start|>` + next role. */
export function renderConversationForCompletion(
  conversation: Conversation,
  nextRole: Role,
  opts?: RenderOptions,
): number[] {
  const out: number[] = [];
  renderInto(out, conversation, opts);
  out.push(Tok.start);
  pushAll(out, encodeText(nextRole));
  return out;
}

/** For training: if the last message is an assistant `final`, it ends with `<|return|>` instead of `<|end|>`. */
export function renderConversationForTraining(conversation: Conversation, opts?: RenderOptions): number[] {
  const out = renderConversation(conversation, opts);
  const last = conversation.messages[conversation.messages.length - 1];
  if (last && last.role === 'assistant' && last.channel === 'final' && out[out.length - 1] === Tok.end) {
    out[out.length - 1] = Tok.return;
  }
  return out;
}
