import type { ReasoningEffort } from '@harmonia/core';
import { invalid } from './errors.js';

/** Small checks for request bodies: each failure names the field, as OpenAI's errors do. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function optString(body: JsonObject, key: string, param = key): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(param, `Invalid type for '${param}': expected a string.`);
  return v;
}

export function optBool(body: JsonObject, key: string, param = key): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(param, `Invalid type for '${param}': expected a boolean.`);
  return v;
}

export function optNumber(
  body: JsonObject,
  key: string,
  {
    min,
    max,
    integer = false,
    param = key,
  }: { min?: number; max?: number; integer?: boolean; param?: string },
): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw invalid(param, `Invalid type for '${param}': expected ${integer ? 'an integer' : 'a number'}.`);
  }
  if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
    throw invalid(
      param,
      `Invalid '${param}': ${v} is out of range (${min ?? '-inf'} to ${max ?? 'inf'}).`,
      'invalid_value',
    );
  }
  return v;
}

/** `minimal` (OpenAI's lowest level) maps to gpt-oss's `low`. */
export function effortOf(v: unknown, param: string): ReasoningEffort | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === 'minimal' || v === 'low') return 'low';
  if (v === 'medium' || v === 'high') return v;
  throw invalid(
    param,
    `Invalid value for '${param}': '${String(v)}'. Supported values are: 'low', 'medium' and 'high'.`,
    'invalid_value',
  );
}

/** OpenAI's rule for function names: letters, digits, '_' and '-', at most 64. */
export const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
