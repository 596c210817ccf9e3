export * from './completions.js';
export { BackendError, ScriptExhaustedError, UnusedScriptError } from './errors.js';
export * from './ollama-chat.js';
export * from './ollama-generate.js';
export * from './openai-chat.js';
export * from './openai-responses.js';
export * from './profiles.js';
export * from './scripted.js';
export * from './spec.js';
