export * from './browser/index.js';
export * from './python/index.js';
