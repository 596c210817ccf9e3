export * from './agent/index.js';
export * from './backend/index.js';
export type * from './backend/types.js';
export {
  DocumentFileError,
  DocumentFolderError,
  listDocumentFiles,
  type ReadDocumentOptions,
  readDocumentText,
} from './documents/files.js';
export * from './functions/index.js';
export * from './harmony/index.js';
export * from './mcp/index.js';
export * from './safety/index.js';
export * from './store/index.js';
export type { ToolContext, ToolNamespace, ToolOutput } from './tools/types.js';
export { ToolCallError } from './tools/types.js';
export {
  defuseSpecialTokenText,
  frameToolOutput,
  frameUntrusted,
  INJECTION_PATTERNS,
  injectionFindings,
  specialTokenPattern,
} from './tools/untrusted.js';
