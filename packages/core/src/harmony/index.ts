export * from './api.js';
export type * from './types.js';
