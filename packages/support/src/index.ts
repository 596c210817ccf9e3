export {
  type BotLogger,
  type ChatAdapter,
  type ChatAdapterOptions,
  type ChatMessage,
  type ChatSink,
  createChatAdapter,
  DEFAULT_ERROR_REPLY,
  DEFAULT_RATE_LIMIT_REPLY,
} from './adapter.js';
export {
  createFaqAgent,
  defaultDbPath,
  type FaqAgent,
  type FaqAgentOptions,
  FaqConfigError,
  faqAgentFromEnv,
} from './agent.js';
export { BACKEND_HELP, faqBackend } from './backend.js';
export {
  createSupportBot,
  type Escalation,
  SupportBot,
  type SupportBotOptions,
  type SupportEvent,
  type SupportReply,
  type SupportStreamOptions,
  type TicketClosure,
} from './bot.js';
export {
  type Chunk,
  type ChunkOptions,
  chunkDocument,
  chunkText,
  type DocFormat,
  formatOf,
  htmlToMarkdown,
} from './chunk.js';
export {
  cosine,
  defaultEmbedder,
  type Embedder,
  HashingEmbedder,
  UseLiteEmbedder,
  useLiteWords,
} from './embedders.js';
export { DocumentError, FaqIndexError } from './errors.js';
export {
  EVAL_VARIANTS,
  type EvalQuestion,
  type EvalVariant,
  evaluate,
  formatScore,
  loadQuestions,
  type ModeScore,
} from './evaluate.js';
export { reciprocalRankFusion, relativeScoreFusion } from './fusion.js';
export { OFF_TASK_RULES, supportMonitor, supportOutputGuardrail, UNSAFE_RULES } from './guards.js';
export * from './monitor/index.js';
export {
  CITATION_PATTERN,
  type Citation,
  citedIds,
  type FaqNamespaceOptions,
  faqNamespace,
} from './namespace.js';
export {
  bundledDocsDir,
  bundledHeldoutCorpora,
  bundledMonitorCorpora,
  bundledMonitorModel,
  bundledQuestionsFile,
} from './paths.js';
export { DEFAULT_REFUSAL, refusalText, supportInstructions, type TopicPolicy } from './policy.js';
export {
  BotConfigError,
  createBotLogger,
  type HealthServer,
  onSignals,
  rateLimitFromEnv,
  runBotOperations,
  type ShutdownOptions,
  shutdown,
  startHealthServer,
  startupExitCode,
  storeCheck,
} from './service.js';
export { splitMessage } from './split.js';
export {
  type FaqEntry,
  FaqIndex,
  type FaqIndexOptions,
  type Fusion,
  type IndexReport,
  type SearchHit,
  type SearchMode,
  type SearchOptions,
} from './store.js';
export {
  defuseSpecialTokens,
  frameUntrusted,
  INJECTION_PATTERNS,
  type UntrustedFinding,
  untrustedNamespace,
} from './untrusted.js';
