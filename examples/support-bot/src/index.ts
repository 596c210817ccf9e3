export {
  type ChatAdapter,
  type ChatAdapterOptions,
  type ChatMessage,
  type ChatSink,
  createChatAdapter,
} from './adapter.js';
export {
  createSupportBot,
  type Escalation,
  SupportBot,
  type SupportBotOptions,
  type SupportEvent,
  type SupportReply,
  type TicketClosure,
} from './bot.js';
export { OFF_TASK_RULES, supportMonitor, supportOutputGuardrail, UNSAFE_RULES } from './guards.js';
export { DEFAULT_REFUSAL, refusalText, supportInstructions, type TopicPolicy } from './policy.js';
export {
  defuseSpecialTokens,
  INJECTION_PATTERNS,
  type UntrustedFinding,
  untrustedNamespace,
} from './untrusted.js';
