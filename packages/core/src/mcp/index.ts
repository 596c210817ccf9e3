export {
  connectMcp,
  McpError,
  type McpHttpServer,
  type McpLimits,
  McpNamespace,
  type McpServerConfig,
  type McpStdioServer,
  mcpResultText,
  parseMcpSpec,
} from './client.js';
