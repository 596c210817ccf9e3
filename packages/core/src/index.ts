export type * from './backend/types.js';
export * from './harmony/index.js';
export type { ToolContext, ToolNamespace, ToolOutput } from './tools/types.js';
export { ToolCallError } from './tools/types.js';
