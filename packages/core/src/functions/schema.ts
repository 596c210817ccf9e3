import { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import type { JsonSchema } from '../harmony/types.js';

/**
 * A zod schema of either major version. Both expose `safeParse`; zod 4 schemas carry `_zod`, zod 3 schemas
 * (including `zod/v3`) only `_def`.
 */
export interface AnyZodSchema {
  safeParse(data: unknown): { success: true; data: unknown } | { success: false; error: unknown };
  _output?: unknown;
}

/** The parsed (output) type of a zod 3 or zod 4 schema. */
export type InferSchema<S> = S extends { _output: infer O } ? O : unknown;

function isZod4(schema: object): schema is z.core.$ZodType {
  return '_zod' in schema;
}

/**
 * Converts a zod schema to the JSON Schema the Harmony layer renders as TypeScript. zod 4 uses its native
 * `z.toJSONSchema`; zod 3 goes through `zod-to-json-schema` (which silently returns an empty schema for zod 4
 * input, hence the version check). `$schema` is dropped: it is noise in the rendered prompt.
 */
export function toJsonSchema(schema: AnyZodSchema): JsonSchema {
  let out: JsonSchema;
  if (isZod4(schema)) {
    out = z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } else {
    out = zodToJsonSchema(schema as Parameters<typeof zodToJsonSchema>[0], {
      target: 'jsonSchema7',
      $refStrategy: 'none',
    }) as JsonSchema;
  }
  const { $schema: _drop, ...rest } = out;
  return rest;
}

/** One line per problem, `path: message`, for a tool error the model can act on. */
export function describeIssues(error: unknown): string {
  const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] })?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return String(error);
  return issues
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
