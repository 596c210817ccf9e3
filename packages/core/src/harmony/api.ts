/**
 * The public surface of the Harmony layer (tokenizer, renderer, streaming parser). Bodies live in the modules
 * re-exported here; the rest of Harmonia imports these names from `@harmonia/core`.
 */

export {
  type BrowserNamespaceOptions,
  browserNamespace,
  type PythonNamespaceOptions,
  pythonNamespace,
} from './builtin-tools.js';
export {
  assistantStart,
  finalPrefill,
  headerHasRecipient,
  inferStopToken,
} from './completion.js';
export {
  HarmonyError,
  HarmonyInputError,
  HarmonyParseError,
  HarmonyRenderError,
  HarmonyTokenError,
} from './errors.js';
export {
  answerText,
  assistantCall,
  assistantText,
  developerInstructions,
  isToolCall,
  messageText,
  sanitizeContent,
  textMessage,
} from './messages.js';
export {
  type ParserEvent,
  type ParserOptions,
  parseMessagesFromCompletionTokens,
  StreamParser,
} from './parser.js';
export { balancedJsonEnd, looksFlattened, parseFlattened, trimJsonArguments } from './recover.js';
export {
  conversationHasFunctionTools,
  type RenderMessageOptions,
  type RenderOptions,
  renderConversation,
  renderConversationForCompletion,
  renderConversationForTraining,
  renderDeveloperContentText,
  renderMessage,
  renderSystemContentText,
  renderToolsSection,
} from './render.js';
export { jsonSchemaToTypeScript } from './schema-ts.js';
export { conversationFromJson, messageFromJson, messageToJson } from './serde.js';
export { type ResponseFormat, renderResponseFormats, systemContent } from './system.js';
export {
  decode,
  decodeBytes,
  decodeUtf8,
  encode,
  encodeText,
  isValidToken,
  tokenBytes,
  tokenText,
} from './tokenizer.js';
export {
  isSpecialToken,
  isStopToken,
  STOP_TOKENS,
  STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
  specialTokenId,
  specialTokenText,
  Tok,
  VOCAB_SIZE,
} from './tokens.js';
export { Utf8StreamDecoder } from './utf8-stream.js';
