export * from './define.js';
export { echoFunction } from './echo.js';
export { type AnyZodSchema, type InferSchema, toJsonSchema } from './schema.js';
