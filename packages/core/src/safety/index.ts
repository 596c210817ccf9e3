export * from './end-conversation.js';
export * from './guardrails.js';
export * from './monitor.js';
