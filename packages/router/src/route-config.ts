import { readFileSync } from 'node:fs';
import {
  type Backend,
  type BackendFlags,
  backendFromSpec,
  type ConversationStore,
  type ModelSize,
} from '@harmonia/core';
import { type ArmBackends, createRouterChooser, type RouterChooser } from './chooser.js';
import { ARMS, type ArmCost, type ArmId } from './cost.js';
import type { LlmRouterFn } from './llm-router.js';
import type { RouterPolicy } from './policy.js';

/** Price of one model or arm: dollars per million tokens in and out, and optionally its expected output length. */
export interface ArmPrice {
  inputPerMTok?: number;
  outputPerMTok?: number;
  expectedOutputTokens?: number;
}

/** Prices by model (`20b`, `120b`: all three efforts) and/or by arm (`20b-low` …, which wins over its model). */
export type PriceTable = Partial<Record<ModelSize | ArmId, ArmPrice>>;

/**
 * A routed backend's configuration: `arms` maps a model size or an arm to a backend spec (any string
 * `--backend` takes), plus an optional policy and price table.
 */
export interface RouteConfig {
  arms: Partial<Record<ModelSize | ArmId, string>>;
  policy?: RouterPolicy;
  prices?: PriceTable;
}

/** A route flag, config file or price table that cannot be used; the message says what to fix. */
export class RouteConfigError extends Error {
  override name = 'RouteConfigError';
}

const KEYS: readonly string[] = ['20b', '120b', ...ARMS];
const KEY_LIST = `20b, 120b, ${ARMS.join(', ')}`;

function checkKey(key: string, where: string): ModelSize | ArmId {
  if (!KEYS.includes(key)) throw new RouteConfigError(`${where}: unknown arm '${key}'; use ${KEY_LIST}`);
  return key as ModelSize | ArmId;
}

/** Turns a price table into the policy's per-arm cost overrides (arm entries win over model entries). */
export function costsFromPrices(
  table: PriceTable,
  where = 'prices',
): Partial<Record<ArmId, Partial<ArmCost>>> {
  if (!table || typeof table !== 'object' || Array.isArray(table))
    throw new RouteConfigError(`${where}: expected an object of arm → {inputPerMTok, outputPerMTok}`);
  const out: Partial<Record<ArmId, Partial<ArmCost>>> = {};
  const entries = Object.entries(table).map(([k, v]) => [checkKey(k, where), v] as const);
  for (const [key, price] of entries) {
    if (!price || typeof price !== 'object')
      throw new RouteConfigError(`${where}.${key}: expected {inputPerMTok, outputPerMTok}`);
    for (const [field, value] of Object.entries(price)) {
      if (!['inputPerMTok', 'outputPerMTok', 'expectedOutputTokens'].includes(field))
        throw new RouteConfigError(
          `${where}.${key}: unknown field '${field}' (inputPerMTok, outputPerMTok, expectedOutputTokens)`,
        );
      if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value))
        throw new RouteConfigError(`${where}.${key}.${field} must be a number >= 0`);
    }
  }
  // Model-wide entries first, so an arm's own entry overrides them.
  for (const [key, price] of entries)
    if (key === '20b' || key === '120b')
      for (const arm of ARMS) if (arm.startsWith(`${key}-`)) out[arm] = { ...out[arm], ...price };
  for (const [key, price] of entries)
    if (key !== '20b' && key !== '120b') out[key] = { ...out[key], ...price };
  return out;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RouteConfigError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RouteConfigError(`${path}: invalid JSON (${(err as Error).message})`);
  }
}

/** Reads a price table file (JSON: `{"20b": {"inputPerMTok": 0.05, "outputPerMTok": 0.2}, …}`). */
export function readPriceTable(path: string): PriceTable {
  const table = readJson(path) as PriceTable;
  costsFromPrices(table, path);
  return table;
}

/**
 * Parses `--route`: either `ARM=SPEC,ARM=SPEC` (e.g. `20b=ollama:gpt-oss:20b,120b=chat:http://gpu:8000`; a
 * spec may itself contain commas) or the path of a JSON file `{arms, policy?, prices?}`.
 */
export function parseRouteFlag(value: string): RouteConfig {
  const v = value.trim();
  if (v === '') throw new RouteConfigError('--route is empty; give ARM=SPEC,… or a JSON config file');
  if (!/^[\w-]+=/.test(v)) return routeConfigFrom(readJson(v), v);
  const arms: RouteConfig['arms'] = {};
  for (const part of v.split(/,(?=\s*[0-9a-z-]+=)/)) {
    const eq = part.indexOf('=');
    const key = checkKey(part.slice(0, eq).trim(), '--route');
    const spec = part.slice(eq + 1).trim();
    if (spec === '') throw new RouteConfigError(`--route: ${key} has no backend spec`);
    if (arms[key]) throw new RouteConfigError(`--route: ${key} is given twice`);
    arms[key] = spec;
  }
  return { arms };
}

/** Checks a parsed config object (from a file or an environment variable). */
export function routeConfigFrom(raw: unknown, where: string): RouteConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new RouteConfigError(`${where}: expected a JSON object {arms, policy?, prices?}`);
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r))
    if (!['arms', 'policy', 'prices'].includes(k))
      throw new RouteConfigError(`${where}: unknown key '${k}' (arms, policy, prices)`);
  if (!r.arms || typeof r.arms !== 'object' || Array.isArray(r.arms))
    throw new RouteConfigError(`${where}: "arms" must map 20b/120b or arms like 20b-low to backend specs`);
  const arms: RouteConfig['arms'] = {};
  for (const [k, spec] of Object.entries(r.arms)) {
    const key = checkKey(k, `${where}: arms`);
    if (typeof spec !== 'string' || spec.trim() === '')
      throw new RouteConfigError(`${where}: arms.${key} must be a backend spec string`);
    arms[key] = spec.trim();
  }
  if (Object.keys(arms).length === 0) throw new RouteConfigError(`${where}: "arms" is empty`);
  if (
    r.policy !== undefined &&
    (typeof r.policy !== 'object' || r.policy === null || Array.isArray(r.policy))
  )
    throw new RouteConfigError(`${where}: "policy" must be an object`);
  const config: RouteConfig = { arms };
  if (r.policy) config.policy = r.policy as RouterPolicy;
  if (r.prices !== undefined) {
    costsFromPrices(r.prices as PriceTable, `${where}: prices`);
    config.prices = r.prices as PriceTable;
  }
  return config;
}

export interface RoutedBackendOptions {
  /** Passed to every arm's `backendFromSpec` (model name, chat profile, API key). */
  flags?: BackendFlags;
  /** Overrides the config's price table. */
  prices?: PriceTable;
  llm?: LlmRouterFn;
  /** Records decisions and restores sticky ones (see `RouterChooserOptions.store`). */
  store?: ConversationStore;
}

/**
 * A routed backend: each arm's spec becomes a backend (the same spec shares one backend), the classifier picks
 * the arm per conversation, and the decision (with the arm that served it) reaches the run's events and result.
 */
export async function createRoutedBackend(
  config: RouteConfig,
  options: RoutedBackendOptions = {},
): Promise<RouterChooser> {
  const bySpec = new Map<string, Promise<Backend>>();
  const backends: ArmBackends = {};
  for (const [key, spec] of Object.entries(config.arms) as [ModelSize | ArmId, string][]) {
    let b = bySpec.get(spec);
    if (!b) {
      b = backendFromSpec(spec, options.flags);
      bySpec.set(spec, b);
    }
    backends[key] = await b;
  }
  const prices = options.prices ?? config.prices;
  const policy: RouterPolicy = {
    ...config.policy,
    ...(prices ? { costs: { ...config.policy?.costs, ...costsFromPrices(prices) } } : {}),
  };
  return createRouterChooser({
    backends,
    policy,
    ...(options.llm ? { llm: options.llm } : {}),
    ...(options.store ? { store: options.store } : {}),
  });
}
