import { systemContent } from '../harmony/api.js';
import type {
  Message,
  ReasoningEffort,
  SerdeReasoningEffort,
  ToolNamespaceConfig,
} from '../harmony/types.js';
import type { Agent } from './agent.js';

const SERDE_EFFORT: Record<ReasoningEffort, SerdeReasoningEffort> = {
  low: 'Low',
  medium: 'Medium',
  high: 'High',
};

/**
 * The head of every prompt: the system and developer messages for one model call (rebuilt per call: effort can
 * change per turn). Not to be confused with a preamble, the commentary the model shows before tool calls.
 */
export function promptHead(agent: Agent, effort: ReasoningEffort): Message[] {
  const systemTools: Record<string, ToolNamespaceConfig> = {};
  const devTools: Record<string, ToolNamespaceConfig> = {};
  for (const ns of agent.namespaces.values()) {
    (ns.placement === 'system' ? systemTools : devTools)[ns.name] = ns.config();
  }
  const anyTools = agent.namespaces.size > 0;
  const sys = systemContent({
    ...(agent.options.modelIdentity !== undefined ? { model_identity: agent.options.modelIdentity } : {}),
    ...(agent.options.knowledgeCutoff !== undefined
      ? { knowledge_cutoff: agent.options.knowledgeCutoff }
      : {}),
    reasoning_effort: SERDE_EFFORT[effort],
    conversation_start_date: agent.currentDate(),
    tools: Object.keys(systemTools).length ? systemTools : null,
    // Declare only what is enabled: without tools there is no commentary channel to call through (§2 B15).
    channel_config: {
      valid_channels: anyTools ? ['analysis', 'commentary', 'final'] : ['analysis', 'final'],
      channel_required: true,
    },
  });
  const out: Message[] = [{ role: 'system', content: [sys] }];
  const instructions = agent.renderedInstructions();
  if (instructions || Object.keys(devTools).length) {
    out.push({
      role: 'developer',
      content: [
        {
          type: 'developer_content',
          instructions: instructions ?? null,
          tools: Object.keys(devTools).length ? devTools : null,
        },
      ],
    });
  }
  return out;
}

/**
 * The one place reasoning is dropped (frameworks.md §2 A1–A2): reasoning of turns that ended in a final
 * message is removed; reasoning of the turn in progress (between its tool calls) is kept. Rendering then runs
 * with `autoDropAnalysis: false` so no second filter applies.
 */
export function promptView(history: readonly Message[]): Message[] {
  let lastFinal = -1;
  for (let i = history.length - 1; i >= 0; i--) {
    const m = history[i]!;
    if (m.role === 'assistant' && m.channel === 'final' && !m.recipient) {
      lastFinal = i;
      break;
    }
  }
  if (lastFinal < 0) return history as Message[];
  const out: Message[] = [];
  for (let i = 0; i < history.length; i++) {
    const m = history[i]!;
    if (i < lastFinal && m.role === 'assistant' && m.channel === 'analysis' && !m.recipient) continue;
    out.push(m);
  }
  return out;
}

/** Every namespace's config, for message-level backends (they take one flat tool list). */
export function allToolConfigs(agent: Agent): ToolNamespaceConfig[] {
  return [...agent.namespaces.values()].map((ns) => ns.config());
}
