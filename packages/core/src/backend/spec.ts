/**
 * Backend specs (see `BACKEND_SCHEMES` for the forms): parsing, probing plain URLs, and building the backend.
 */
import { readFile } from 'node:fs/promises';
import { CompletionsBackend } from './completions.js';
import { getJson, identifyServer, type ServerIdentity, serverRoot } from './detect.js';
import { OllamaChatBackend } from './ollama-chat.js';
import { OllamaGenerateBackend } from './ollama-generate.js';
import { ChatCompletionsBackend } from './openai-chat.js';
import { ResponsesBackend } from './openai-responses.js';
import { type CapabilityProfile, guessProfile, isProfileName, PROFILE_NAMES, PROFILES } from './profiles.js';
import type { RetryOptions } from './retry.js';
import { BACKEND_SCHEMES, type BackendScheme, backendForms, schemeInfo } from './schemes.js';
import { ScriptedBackend, type ScriptStep } from './scripted.js';
import type { Backend } from './types.js';

/** The spec string is malformed (unknown scheme, missing model or file): fix the string. */
export class BackendSpecError extends Error {
  override name = 'BackendSpecError';
}

/** The spec is well formed but nothing usable answers there (server down, no gpt-oss model). */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

export type BackendSpec =
  | { scheme: 'script'; file: string }
  | { scheme: 'ollama' | 'ollama-chat'; model: string; baseURL: string }
  | { scheme: 'url' | 'chat' | 'responses'; baseURL: string }
  | { scheme: string; target: string };

export interface BackendFlags {
  /** For servers: the model name; default the first gpt-oss model (Ollama) or the first listed (others). */
  model?: string | undefined;
  /** For `chat:` — a capability profile (see `PROFILES`); default from the server, its host or its port. */
  profile?: string | undefined;
  /**
   * The key for this spec's server only. Without one, a hosted API's own variable is used for its own host
   * (OPENAI_API_KEY for api.openai.com, OPENROUTER_API_KEY for openrouter.ai, GROQ_API_KEY for api.groq.com);
   * no key is ever sent to another address.
   */
  apiKey?: string | undefined;
  /** How long to wait for a server to answer the probe (default 3000 ms). */
  probeTimeoutMs?: number | undefined;
  /** Retries and timeouts of model calls. */
  retry?: RetryOptions | undefined;
}

type Factory = (target: string, flags: BackendFlags) => Promise<Backend>;
const extraSchemes = new Map<string, Factory>();

/** Adds a scheme, e.g. `native` from @harmonia/engine; core never depends on the engine package. */
export function registerBackendScheme(scheme: string, factory: Factory): void {
  extraSchemes.set(scheme, factory);
}

const ENGINE_PACKAGE = '@harmonia/engine';

/**
 * `native:DIR` wherever a spec is accepted (the CLI, the FAQ agent, the bots): core does not depend on the engine,
 * so the first native spec loads it, when it is installed, from core's own location, the working directory or the
 * entry script's, and lets it register itself.
 */
async function loadEngine(): Promise<void> {
  const { createRequire } = await import('node:module');
  const { pathToFileURL } = await import('node:url');
  const { join } = await import('node:path');
  const bases = [import.meta.url, pathToFileURL(join(process.cwd(), 'package.json')).href];
  if (process.argv[1]) bases.push(pathToFileURL(process.argv[1]).href);
  for (const base of bases) {
    let path: string;
    try {
      path = createRequire(base).resolve(ENGINE_PACKAGE);
    } catch {
      continue;
    }
    const mod = (await import(pathToFileURL(path).href)) as { registerNativeBackend?: () => void };
    mod.registerNativeBackend?.();
    if (extraSchemes.has('native')) return;
  }
}

/** Whether `scheme` can be opened now (built in, or registered by another package). */
export const isSchemeAvailable = (scheme: string): boolean =>
  extraSchemes.has(scheme) || (scheme !== 'native' && schemeInfo(scheme) !== undefined);

const isUrl = (s: string) => /^https?:\/\//.test(s);

const needs = (s: BackendScheme) =>
  new BackendSpecError(
    `${s.scheme}: needs ${s.arg === 'URL' ? 'a URL' : s.arg === 'MODEL' ? 'a model' : s.arg === 'FILE' ? 'a file' : 'a model directory'}, e.g. ${s.example}`,
  );

export function parseBackendSpec(spec: string | undefined): BackendSpec {
  if (!spec) throw new BackendSpecError(`no backend given: pass ${backendForms()}`);
  if (isUrl(spec)) return { scheme: 'url', baseURL: spec };
  const colon = spec.indexOf(':');
  const scheme = colon < 0 ? '' : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  const info = scheme === 'url' ? undefined : schemeInfo(scheme);
  if (!info) {
    if (extraSchemes.has(scheme)) return { scheme, target: rest };
    throw new BackendSpecError(`unknown backend '${spec}': use ${backendForms()}`);
  }
  if (!rest || (info.arg === 'URL' && !isUrl(rest))) throw needs(info);
  switch (info.scheme) {
    case 'script':
      return { scheme: 'script', file: rest };
    case 'ollama':
    case 'ollama-chat':
      return { scheme: info.scheme, model: rest, baseURL: ollamaHost() };
    case 'chat':
    case 'responses':
      return { scheme: info.scheme, baseURL: rest };
    default:
      return { scheme: info.scheme, target: rest };
  }
}

export function ollamaHost(): string {
  const h = process.env.OLLAMA_HOST;
  if (!h) return 'http://127.0.0.1:11434';
  return isUrl(h) ? h : `http://${h}`;
}

/** Hosted APIs and the environment variable holding each one's key. */
const HOSTED_KEYS: { host: RegExp; env: string; profile: CapabilityProfile }[] = [
  { host: /(^|\.)openrouter\.ai$/, env: 'OPENROUTER_API_KEY', profile: PROFILES.openrouter },
  { host: /(^|\.)groq\.com$/, env: 'GROQ_API_KEY', profile: PROFILES.groq },
  { host: /^api\.openai\.com$/, env: 'OPENAI_API_KEY', profile: PROFILES.openai },
];

const hostOf = (url: string): string => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};

const hosted = (url: string) => HOSTED_KEYS.find((h) => h.host.test(hostOf(url)));

/** The key sent to `url`: the one given for it, else a hosted API's own variable for its own host. */
export function apiKeyFor(url: string, given?: string): string | undefined {
  if (given) return given;
  const h = hosted(url);
  return h ? process.env[h.env] || undefined : undefined;
}

/** Reads a script file: a JSON array of completion texts (or `{text, finishReason}` objects). */
export async function readScript(file: string): Promise<ScriptStep[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BackendSpecError(`cannot read script ${file}: ${(err as Error).message}`);
  }
  let steps: unknown;
  try {
    steps = JSON.parse(text);
  } catch (err) {
    throw new BackendSpecError(`script ${file} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(steps))
    throw new BackendSpecError(`script ${file} must be a JSON array of completion texts`);
  for (const [i, s] of steps.entries()) {
    const ok = typeof s === 'string' || (typeof s === 'object' && s !== null && typeof s.text === 'string');
    if (!ok)
      throw new BackendSpecError(`script ${file}: item ${i} must be a string (a Harmony completion text)`);
  }
  return steps as ScriptStep[];
}

/** Asks an OpenAI-compatible server which models it serves. */
export async function listModels(baseURL: string, apiKey?: string, timeoutMs = 3000): Promise<string[]> {
  const url = `${serverRoot(baseURL)}/v1/models`;
  const r = await getJson<{ data?: { id: string }[] }>(url, timeoutMs, apiKeyFor(baseURL, apiKey));
  if (!r.ok) throw new BackendUnavailableError(`${url} did not answer (${r.error})`);
  return (r.body.data ?? []).map((m) => m.id);
}

/** The model to use on an identified server: the one asked for, else a gpt-oss one it lists, else its first. */
export function pickModel(id: ServerIdentity, flags: BackendFlags): string {
  if (flags.model) return flags.model;
  const gptOss = id.models.find((n) => /gpt-oss/i.test(n));
  if (id.kind === 'ollama') {
    if (!gptOss)
      throw new BackendUnavailableError(
        `Ollama at ${id.root} has no gpt-oss model: run 'ollama pull gpt-oss:20b'`,
      );
    return gptOss;
  }
  const model = gptOss ?? id.models[0];
  if (!model) throw new BackendUnavailableError(`${id.root} lists no models; pass a model name`);
  return model;
}

/** The profile a server kind calls for. */
export function profileForKind(kind: ServerIdentity['kind'], url: string): CapabilityProfile {
  switch (kind) {
    case 'llamacpp':
    case 'vllm':
    case 'ollama':
    case 'lmstudio':
      return PROFILES[kind];
    case 'harmonia':
      return PROFILES.openai;
    default:
      return hosted(url)?.profile ?? guessProfile(url);
  }
}

/** What `backendFromSpec` would do with a plain URL, and why (shown by `doctor` and `start`). */
export interface Resolution {
  backend: Backend;
  identity?: ServerIdentity;
  /** e.g. `llama.cpp (GET /props answered) → token ids on /completion`. */
  how: string;
}

async function identify(
  url: string,
  flags: BackendFlags,
  apiKey: string | undefined,
): Promise<ServerIdentity> {
  const r = await identifyServer(url, {
    apiKey,
    ...(flags.probeTimeoutMs ? { timeoutMs: flags.probeTimeoutMs } : {}),
  });
  if (!r.identity) throw new BackendUnavailableError(`Nothing answers at ${serverRoot(url)} (${r.error})`);
  return r.identity;
}

/** A plain URL: identifies the server and picks the protocol that keeps Harmony in our hands where it can. */
export async function resolveUrl(url: string, flags: BackendFlags = {}): Promise<Resolution> {
  const apiKey = apiKeyFor(url, flags.apiKey);
  const h = hosted(url);
  if (h) {
    // Hosted APIs take no token prompts: Chat Completions with the provider's profile, no probing.
    const model = flags.model ?? (await listModels(url, apiKey, flags.probeTimeoutMs))[0];
    if (!model) throw new BackendUnavailableError(`${serverRoot(url)} lists no models; pass --model`);
    const backend = new ChatCompletionsBackend({
      baseURL: `${serverRoot(url)}/v1`,
      model,
      apiKey,
      profile: h.profile,
      ...(flags.retry ? { retry: flags.retry } : {}),
    });
    return { backend, how: `${hostOf(url)} → Chat Completions, profile ${h.profile.name}` };
  }
  const id = await identify(url, flags, apiKey);
  const model = pickModel(id, flags);
  const retry = flags.retry ? { retry: flags.retry } : {};
  switch (id.kind) {
    case 'llamacpp':
      return {
        identity: id,
        backend: new CompletionsBackend({ baseURL: id.root, model, apiKey, dialect: 'llamacpp', ...retry }),
        how: `llama.cpp (${id.evidence}) → token ids on /completion, model ${model}`,
      };
    case 'ollama':
      return {
        identity: id,
        backend: new OllamaGenerateBackend({ baseURL: id.root, model, apiKey, ...retry }),
        how: `Ollama ${id.version ?? ''} (${id.evidence}) → raw Harmony prompt on /api/generate, model ${model}`,
      };
    case 'lmstudio':
      return {
        identity: id,
        backend: new ChatCompletionsBackend({
          baseURL: `${id.root}/v1`,
          model,
          apiKey,
          profile: PROFILES.lmstudio,
          ...retry,
        }),
        how: `LM Studio (${id.evidence}) → Chat Completions, profile lmstudio, model ${model}`,
      };
    case 'harmonia':
      // Another Harmonia (`harmonia serve`): Chat Completions, reasoning passed back as `reasoning`.
      return {
        identity: id,
        backend: new ChatCompletionsBackend({
          baseURL: `${id.root}/v1`,
          model,
          apiKey,
          profile: PROFILES.openai,
          ...retry,
        }),
        how: `harmonia serve (${id.evidence}) → Chat Completions, profile openai, model ${model}`,
      };
    default:
      return {
        identity: id,
        backend: new CompletionsBackend({ baseURL: id.root, model, apiKey, ...retry }),
        how: `${id.kind === 'vllm' ? `vLLM ${id.version ?? ''}` : 'OpenAI-compatible server'} (${id.evidence}) → token ids on /v1/completions, model ${model}`,
      };
  }
}

/** Turns a spec (string or parsed) into a backend, probing servers where the spec leaves a choice open. */
export async function backendFromSpec(
  spec: string | BackendSpec,
  flags: BackendFlags = {},
): Promise<Backend> {
  return (await resolveSpec(spec, flags)).backend;
}

/** Like `backendFromSpec`, with what was found on the way. */
export async function resolveSpec(spec: string | BackendSpec, flags: BackendFlags = {}): Promise<Resolution> {
  const s = typeof spec === 'string' ? parseBackendSpec(spec) : spec;
  const retry = flags.retry ? { retry: flags.retry } : {};
  if ('file' in s) {
    return {
      backend: new ScriptedBackend(await readScript(s.file), { id: `script:${s.file}` }),
      how: `a script of ${s.file}`,
    };
  }
  if ('model' in s) {
    const apiKey = flags.apiKey;
    return s.scheme === 'ollama-chat'
      ? {
          backend: new OllamaChatBackend({ model: s.model, baseURL: s.baseURL, apiKey, ...retry }),
          how: `Ollama /api/chat at ${s.baseURL}`,
        }
      : {
          backend: new OllamaGenerateBackend({ model: s.model, baseURL: s.baseURL, apiKey, ...retry }),
          how: `Ollama /api/generate (raw) at ${s.baseURL}`,
        };
  }
  if ('baseURL' in s) {
    if (s.scheme === 'url') return resolveUrl(s.baseURL, flags);
    const apiKey = apiKeyFor(s.baseURL, flags.apiKey);
    const baseURL = `${serverRoot(s.baseURL)}/v1`;
    if (flags.profile !== undefined && !isProfileName(flags.profile))
      throw new BackendSpecError(`profile must be one of ${PROFILE_NAMES.join(', ')}`);
    // The server's identity picks the model and the profile; hosted APIs are known by host.
    let identity: ServerIdentity | undefined;
    if (!hosted(s.baseURL) && (!flags.model || (!flags.profile && s.scheme === 'chat'))) {
      identity = await identify(s.baseURL, flags, apiKey);
    }
    const model =
      flags.model ??
      (identity
        ? pickModel(identity, flags)
        : (await listModels(s.baseURL, apiKey, flags.probeTimeoutMs))[0]);
    if (!model) throw new BackendUnavailableError(`${serverRoot(s.baseURL)} lists no models; pass --model`);
    if (s.scheme === 'responses') {
      return {
        ...(identity ? { identity } : {}),
        backend: new ResponsesBackend({ baseURL, model, apiKey, ...retry }),
        how: `Responses API at ${baseURL}, model ${model}`,
      };
    }
    const profile =
      flags.profile !== undefined && isProfileName(flags.profile)
        ? PROFILES[flags.profile]
        : identity
          ? profileForKind(identity.kind, s.baseURL)
          : (hosted(s.baseURL)?.profile ?? guessProfile(s.baseURL));
    return {
      ...(identity ? { identity } : {}),
      backend: new ChatCompletionsBackend({ baseURL, model, apiKey, profile, ...retry }),
      how: `Chat Completions at ${baseURL}, profile ${profile.name}, model ${model}`,
    };
  }
  if (s.scheme === 'native' && !extraSchemes.has('native')) await loadEngine();
  const factory = extraSchemes.get(s.scheme);
  if (!factory) {
    throw new BackendSpecError(
      s.scheme === 'native'
        ? 'native: the in-process engine is not registered: install @harmonia/engine and call registerNativeBackend()'
        : `unknown backend scheme '${s.scheme}'`,
    );
  }
  return { backend: await factory(s.target, flags), how: `${s.scheme}:${s.target}` };
}

/** Every scheme's form, for callers that list them. */
export { BACKEND_SCHEMES };
