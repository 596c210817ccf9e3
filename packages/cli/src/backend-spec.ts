/**
 * `--backend` for `run`, `chat` and `doctor`:
 *   script:FILE          a JSON array of Harmony completion texts, one per model call (tests, demos)
 *   ollama:MODEL         Ollama `/api/generate` in raw mode (host from OLLAMA_HOST, default 127.0.0.1:11434)
 *   ollama-chat:MODEL    Ollama's native `/api/chat` (it applies Harmony; `think` levels, `thinking` replay)
 *   http(s)://HOST[:P]   an OpenAI-compatible server taking token ids on `/v1/completions` (vLLM, llama.cpp)
 *   chat:URL             the same server through Chat Completions (it applies Harmony itself)
 *   responses:URL        the same server through the Responses API
 *   native:DIR           the in-process engine (provided by @harmonia/engine; registered by the CLI wiring)
 */
import { readFile } from 'node:fs/promises';
import {
  type Backend,
  ChatCompletionsBackend,
  CompletionsBackend,
  OllamaChatBackend,
  OllamaGenerateBackend,
  PROFILES,
  type ProfileName,
  ResponsesBackend,
  ScriptedBackend,
  type ScriptStep,
} from '@harmonia/core';
import { UsageError } from './command.js';

export type BackendSpec =
  | { scheme: 'script'; file: string }
  | { scheme: 'ollama' | 'ollama-chat'; model: string; baseURL: string }
  | { scheme: 'completions' | 'chat' | 'responses'; baseURL: string }
  | { scheme: string; target: string };

export interface BackendFlags {
  /** `--model`; for URL backends, defaults to the first model the server lists. */
  model?: string;
  /** `--profile` for `chat:` (vllm, ollama, openrouter, groq, lmstudio, openai). */
  profile?: string;
  apiKey?: string;
}

type Factory = (target: string, flags: BackendFlags) => Promise<Backend>;
const extraSchemes = new Map<string, Factory>();

/**
 * Registers another scheme, e.g. `registerBackendScheme('native', (dir) => nativeBackend(dir))` from the
 * engine wiring. Kept here so `backend-spec.ts` never depends on the engine package.
 */
export function registerBackendScheme(scheme: string, factory: Factory): void {
  extraSchemes.set(scheme, factory);
}

const isUrl = (s: string) => /^https?:\/\//.test(s);

export function parseBackendSpec(spec: string | undefined): BackendSpec {
  if (!spec) throw new UsageError('--backend is required (URL, ollama:MODEL or script:FILE)');
  if (isUrl(spec)) return { scheme: 'completions', baseURL: spec };
  const colon = spec.indexOf(':');
  const scheme = colon < 0 ? '' : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  switch (scheme) {
    case 'script':
      if (!rest) throw new UsageError('script: needs a file, e.g. --backend script:turns.json');
      return { scheme, file: rest };
    case 'ollama':
      if (!rest) throw new UsageError('ollama: needs a model, e.g. --backend ollama:gpt-oss:20b');
      return { scheme, model: rest, baseURL: ollamaHost() };
    case 'ollama-chat':
      if (!rest) throw new UsageError('ollama-chat: needs a model, e.g. --backend ollama-chat:gpt-oss:20b');
      return { scheme, model: rest, baseURL: ollamaHost() };
    case 'chat':
    case 'responses':
      if (!isUrl(rest))
        throw new UsageError(`${scheme}: needs a URL, e.g. --backend ${scheme}:http://127.0.0.1:8000/v1`);
      return { scheme, baseURL: rest };
    case 'native':
      if (!rest)
        throw new UsageError('native: needs a model directory, e.g. --backend native:/models/gpt-oss-20b');
      return { scheme, target: rest };
    default:
      if (extraSchemes.has(scheme)) return { scheme, target: rest };
      throw new UsageError(
        `unknown backend '${spec}': use a URL (http://127.0.0.1:8000), chat:URL, responses:URL, ollama:MODEL, ollama-chat:MODEL, script:FILE or native:DIR`,
      );
  }
}

export function ollamaHost(): string {
  const h = process.env.OLLAMA_HOST;
  if (!h) return 'http://127.0.0.1:11434';
  return isUrl(h) ? h : `http://${h}`;
}

/** Reads a script file: a JSON array of completion texts (or `{text, finishReason}` objects). */
export async function readScript(file: string): Promise<ScriptStep[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read script ${file}: ${(err as Error).message}`);
  }
  let steps: unknown;
  try {
    steps = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`script ${file} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(steps)) throw new UsageError(`script ${file} must be a JSON array of completion texts`);
  for (const [i, s] of steps.entries()) {
    const ok = typeof s === 'string' || (typeof s === 'object' && s !== null && typeof s.text === 'string');
    if (!ok) throw new UsageError(`script ${file}: item ${i} must be a string (a Harmony completion text)`);
  }
  return steps as ScriptStep[];
}

/** Asks an OpenAI-compatible server which models it serves. */
export async function listModels(baseURL: string, apiKey?: string): Promise<string[]> {
  const url = `${baseURL.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/models`;
  const res = await fetch(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  const body = (await res.json()) as { data?: { id: string }[] };
  return (body.data ?? []).map((m) => m.id);
}

async function modelFor(baseURL: string, flags: BackendFlags): Promise<string> {
  if (flags.model) return flags.model;
  const models = await listModels(baseURL, flags.apiKey).catch((err: Error) => {
    throw new UsageError(`cannot list models at ${baseURL} (${err.message}); pass --model`);
  });
  if (!models[0]) throw new UsageError(`${baseURL} lists no models; pass --model`);
  return models[0];
}

export async function createBackend(spec: BackendSpec, flags: BackendFlags = {}): Promise<Backend> {
  if ('file' in spec) return new ScriptedBackend(await readScript(spec.file), { id: `script:${spec.file}` });
  if ('model' in spec) {
    return spec.scheme === 'ollama-chat'
      ? new OllamaChatBackend({ model: spec.model, baseURL: spec.baseURL })
      : new OllamaGenerateBackend({ model: spec.model, baseURL: spec.baseURL });
  }
  if ('baseURL' in spec) {
    const model = await modelFor(spec.baseURL, flags);
    const apiKey = flags.apiKey ?? process.env.OPENAI_API_KEY;
    if (spec.scheme === 'completions')
      return new CompletionsBackend({ baseURL: spec.baseURL, model, apiKey });
    const baseURL = /\/v1\/?$/.test(spec.baseURL) ? spec.baseURL : `${spec.baseURL.replace(/\/+$/, '')}/v1`;
    if (spec.scheme === 'responses') return new ResponsesBackend({ baseURL, model, apiKey });
    let profile: (typeof PROFILES)[ProfileName] | undefined;
    if (flags.profile) {
      if (!(flags.profile in PROFILES)) {
        throw new UsageError(`--profile must be one of ${Object.keys(PROFILES).join(', ')}`);
      }
      profile = PROFILES[flags.profile as ProfileName];
    }
    return new ChatCompletionsBackend({ baseURL, model, apiKey, ...(profile ? { profile } : {}) });
  }
  const factory = extraSchemes.get(spec.scheme);
  if (!factory) {
    throw new UsageError(
      spec.scheme === 'native'
        ? 'native: the in-process engine is not wired into this build of the CLI yet'
        : `unknown backend scheme '${spec.scheme}'`,
    );
  }
  return factory(spec.target, flags);
}
