export * from './agent.js';
export { classifyTurn, type TurnOutcome } from './classify.js';
export { listTools, resolveRecipient } from './dispatch.js';
export * from './errors.js';
export type * from './events.js';
export { type GuardStreaming, type GuardTrip, sentenceEnds } from './output-gate.js';
export type * from './result.js';
export { type ModelCallInfo, type RunInput, type RunOptions, run, runStream } from './run.js';
export { promptView } from './transcript.js';
