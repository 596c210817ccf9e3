export { parseChatRequest, runChat } from './chat.js';
export { ApiError } from './errors.js';
export {
  exposedTools,
  type McpHttpHandle,
  serveMcpHttp,
  serveMcpStdio,
  toolMcpServer,
} from './mcp-server.js';
export {
  type AgentSettings,
  armFor,
  mapInput,
  ResponseBuilder,
  runResponse,
  type ServedArm,
} from './responses.js';
export { createHarmoniaServer, type HarmoniaServer, type HarmoniaServerOptions } from './server.js';
export { ResponseStore, type StoredResponse, type StoredResponseMeta } from './store.js';
export { clientFunctions, sessionScoped } from './tools.js';
