import type { JsonSchema, ToolNamespaceConfig } from '../harmony/types.js';
import { ToolCallError, type ToolContext, type ToolNamespace, type ToolOutput } from '../tools/types.js';
import { type AnyZodSchema, describeIssues, type InferSchema, toJsonSchema } from './schema.js';

/** Tool names the Harmony header can carry unambiguously (`to=functions.Web Search` breaks parsers). */
export const TOOL_NAME = /^[A-Za-z0-9_]+$/;

export class ToolDefinitionError extends Error {
  override name = 'ToolDefinitionError';
}

/** What `execute` may return: plain text, any JSON value (sent as JSON), or a full `ToolOutput`. */
export type ExecuteResult =
  | string
  | ToolOutput
  | Record<string, unknown>
  | unknown[]
  | number
  | boolean
  | null;

export interface FunctionSpec<S extends AnyZodSchema> {
  name: string;
  description: string;
  parameters: S;
  execute(args: InferSchema<S>, ctx: ToolContext): Promise<ExecuteResult> | ExecuteResult;
}

/** A developer function: validated, typed, and rendered into the developer message. */
export interface FunctionTool {
  readonly kind: 'function';
  readonly name: string;
  readonly description: string;
  readonly parameters: JsonSchema;
  /** Parses and validates the raw argument text, then runs the function. Throws `ToolCallError` on bad input. */
  invoke(rawArgs: string, ctx: ToolContext): Promise<ToolOutput>;
}

function checkName(name: string, what: string): void {
  if (!TOOL_NAME.test(name)) {
    throw new ToolDefinitionError(
      `${what} name '${name}' is not allowed: use only letters, digits and '_' (e.g. '${name.replace(/[^A-Za-z0-9_]+/g, '_')}'), so the model can address it in a Harmony header`,
    );
  }
}

function toOutput(result: ExecuteResult): ToolOutput {
  if (typeof result === 'string') return { text: result };
  // `{ text, meta? }` and nothing else is a ToolOutput; any other object is data, sent as JSON.
  if (
    result &&
    typeof result === 'object' &&
    !Array.isArray(result) &&
    typeof result.text === 'string' &&
    Object.keys(result).every((k) => k === 'text' || k === 'meta')
  ) {
    return result as ToolOutput;
  }
  return { text: JSON.stringify(result) ?? 'null' };
}

/** Parses tool arguments as JSON; an empty body means `{}` (models often send nothing for no-argument tools). */
export function parseJsonArgs(raw: string): unknown {
  const text = raw.trim();
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ToolCallError(
      `Invalid JSON arguments (${(err as Error).message}). Send one JSON object that matches the parameters.`,
    );
  }
}

/**
 * Defines a developer function with a zod (3 or 4) schema. The same schema renders the TypeScript signature
 * the model sees and validates what the model sends.
 */
export function defineFunction<S extends AnyZodSchema>(spec: FunctionSpec<S>): FunctionTool {
  checkName(spec.name, 'Function');
  const parameters = toJsonSchema(spec.parameters);
  return {
    kind: 'function',
    name: spec.name,
    description: spec.description,
    parameters,
    async invoke(rawArgs, ctx) {
      const parsed = spec.parameters.safeParse(parseJsonArgs(rawArgs));
      if (!parsed.success) {
        throw new ToolCallError(`Invalid arguments for ${spec.name}: ${describeIssues(parsed.error)}`);
      }
      return toOutput(await spec.execute(parsed.data as InferSchema<S>, ctx));
    },
  };
}

export interface NamespaceSpec {
  /** The namespace the model addresses, e.g. `faq` → `faq.search`. */
  name: string;
  description?: string;
  functions: readonly FunctionTool[];
}

/**
 * Groups functions into a namespace rendered in the developer message (`functions` for plain developer
 * functions, or a custom one such as `faq`), so the model can call them from its reasoning too.
 */
export function defineNamespace(spec: NamespaceSpec): ToolNamespace {
  checkName(spec.name, 'Namespace');
  const byName = new Map<string, FunctionTool>();
  for (const f of spec.functions) {
    if (byName.has(f.name))
      throw new ToolDefinitionError(`Function '${f.name}' is defined twice in '${spec.name}'`);
    byName.set(f.name, f);
  }
  const config: ToolNamespaceConfig = {
    name: spec.name,
    description: spec.description ?? null,
    tools: spec.functions.map((f) => ({
      name: f.name,
      description: f.description,
      parameters: f.parameters,
    })),
  };
  return {
    name: spec.name,
    placement: 'developer',
    config: () => config,
    async call(fn, args, ctx) {
      const f = fn === undefined ? undefined : byName.get(fn);
      if (!f) {
        const known = [...byName.keys()].map((k) => `${spec.name}.${k}`).join(', ');
        throw new ToolCallError(
          `Unknown tool '${spec.name}${fn === undefined ? '' : `.${fn}`}'. Available tools: ${known || '(none)'}.`,
        );
      }
      return f.invoke(args, ctx);
    },
  };
}

export function isFunctionTool(x: unknown): x is FunctionTool {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'function';
}
