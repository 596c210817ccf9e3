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
  return literalUnionsToEnums(rest) as JsonSchema;
}

/**
 * `z.union([z.literal('a'), z.literal('b')])` comes out as `anyOf` of `const`s, which the Harmony renderer (like
 * openai-harmony's) shows as `any`; an `enum` of the same values renders as `"a" | "b"`. Applied at every depth.
 */
function literalUnionsToEnums(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(literalUnionsToEnums);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = literalUnionsToEnums(v);
  for (const key of ['anyOf', 'oneOf'] as const) {
    const members = out[key];
    if (!Array.isArray(members) || members.length === 0) continue;
    const consts = members.map((m) => {
      const o = m as Record<string, unknown>;
      if ('const' in o)
        return { value: o.const, extra: Object.keys(o).filter((k) => k !== 'const' && k !== 'type') };
      if (Array.isArray(o.enum))
        return {
          value: o.enum,
          extra: Object.keys(o).filter((k) => k !== 'enum' && k !== 'type'),
          many: true,
        };
      return undefined;
    });
    if (consts.some((c) => c === undefined || c.extra.length > 0)) continue;
    const values = consts.flatMap((c) =>
      (c as { many?: boolean }).many ? (c!.value as unknown[]) : [c!.value],
    );
    const types = [...new Set(values.map((v) => (v === null ? 'null' : typeof v)))];
    delete out[key];
    out.enum = values;
    if (types.length === 1 && types[0] !== 'object') out.type = types[0] === 'number' ? 'number' : types[0];
  }
  return out;
}

/** One line per problem, `path: message`, for a tool error the model can act on. */
export function describeIssues(error: unknown): string {
  const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] })?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return String(error);
  return issues
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
