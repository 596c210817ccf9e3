import type { JsonSchema, ToolNamespaceConfig } from '../harmony/types.js';

/** A tool as a flat function for servers that take OpenAI-style function lists. */
export interface FlatTool {
  /** Wire name: `fn` for `functions.fn`, `ns__fn` for other namespaces, `ns` for a code tool like `python`. */
  name: string;
  /** Harmony recipient: `functions.fn`, `faq.search`, `python`. */
  recipient: string;
  description: string;
  parameters: JsonSchema;
  /** Code tools take raw text; on the wire they become `{ code }`. */
  rawCode: boolean;
}

const CODE_PARAMS: JsonSchema = {
  type: 'object',
  properties: { code: { type: 'string', description: 'The code to run.' } },
  required: ['code'],
};

export function flattenTools(namespaces: readonly ToolNamespaceConfig[]): FlatTool[] {
  const out: FlatTool[] = [];
  for (const ns of namespaces) {
    if (ns.tools.length === 0) {
      out.push({
        name: ns.name,
        recipient: ns.name,
        description: ns.description ?? '',
        parameters: CODE_PARAMS,
        rawCode: true,
      });
      continue;
    }
    for (const t of ns.tools) {
      out.push({
        name: ns.name === 'functions' ? t.name : `${ns.name}__${t.name}`,
        recipient: `${ns.name}.${t.name}`,
        description: t.description,
        parameters: t.parameters ?? { type: 'object', properties: {} },
        rawCode: false,
      });
    }
  }
  return out;
}

export class ToolNameMap {
  private readonly byName = new Map<string, FlatTool>();
  private readonly byRecipient = new Map<string, FlatTool>();
  constructor(readonly tools: readonly FlatTool[]) {
    for (const t of tools) {
      this.byName.set(t.name, t);
      this.byRecipient.set(t.recipient, t);
    }
  }
  /** Wire call → Harmony recipient and message text. Unknown names stay visible so the runtime can reject them. */
  fromWire(name: string, args: string): { recipient: string; text: string } {
    const t = this.byName.get(name);
    if (!t) return { recipient: name.includes('.') ? name : `functions.${name}`, text: args };
    if (!t.rawCode) return { recipient: t.recipient, text: args };
    try {
      const code = (JSON.parse(args) as { code?: unknown }).code;
      return { recipient: t.recipient, text: typeof code === 'string' ? code : args };
    } catch {
      return { recipient: t.recipient, text: args };
    }
  }
  /** Harmony call → wire name and JSON arguments. */
  toWire(recipient: string, text: string): { name: string; args: string } {
    const t = this.byRecipient.get(recipient);
    if (!t) return { name: recipient.replace(/^functions\./, '').replace(/\./g, '__'), args: text };
    return { name: t.name, args: t.rawCode ? JSON.stringify({ code: text }) : text };
  }
}
