/**
 * Backend specs: the one string a user writes to say where gpt-oss runs (`--backend`, `HARMONIA_BACKEND`).
 *   http(s)://HOST[:P]   probed: Ollama (answers `/api/tags`) → `/api/generate` raw mode; otherwise an
 *                        OpenAI-compatible server taking token ids on `/v1/completions` (vLLM, llama.cpp)
 *   ollama:MODEL         Ollama `/api/generate` in raw mode (host from OLLAMA_HOST, default 127.0.0.1:11434)
 *   ollama-chat:MODEL    Ollama's native `/api/chat` (it applies Harmony; `think` levels, `thinking` replay)
 *   chat:URL             a server through Chat Completions (it applies Harmony itself)
 *   responses:URL        a server through the Responses API
 *   script:FILE          a JSON array of Harmony completion texts, one per model call (tests, demos)
 *   native:DIR           the in-process engine; @harmonia/engine registers it (`registerBackendScheme`)
 */
import { readFile } from 'node:fs/promises';
import { CompletionsBackend } from './completions.js';
import { OllamaChatBackend } from './ollama-chat.js';
import { OllamaGenerateBackend } from './ollama-generate.js';
import { ChatCompletionsBackend } from './openai-chat.js';
import { ResponsesBackend } from './openai-responses.js';
import { PROFILES, type ProfileName } from './profiles.js';
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
  model?: string;
  /** For `chat:` — a capability profile (vllm, ollama, openrouter, groq, lmstudio, openai). */
  profile?: string;
  apiKey?: string;
  /** How long to wait for a server to answer the probe (default 3000 ms). */
  probeTimeoutMs?: number;
}

type Factory = (target: string, flags: BackendFlags) => Promise<Backend>;
const extraSchemes = new Map<string, Factory>();

/** Adds a scheme, e.g. `native` from @harmonia/engine; core never depends on the engine package. */
export function registerBackendScheme(scheme: string, factory: Factory): void {
  extraSchemes.set(scheme, factory);
}

const isUrl = (s: string) => /^https?:\/\//.test(s);

export function parseBackendSpec(spec: string | undefined): BackendSpec {
  if (!spec)
    throw new BackendSpecError('no backend given: pass a URL, ollama:MODEL, script:FILE or native:DIR');
  if (isUrl(spec)) return { scheme: 'url', baseURL: spec };
  const colon = spec.indexOf(':');
  const scheme = colon < 0 ? '' : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  switch (scheme) {
    case 'script':
      if (!rest) throw new BackendSpecError('script: needs a file, e.g. script:turns.json');
      return { scheme, file: rest };
    case 'ollama':
    case 'ollama-chat':
      if (!rest) throw new BackendSpecError(`${scheme}: needs a model, e.g. ${scheme}:gpt-oss:20b`);
      return { scheme, model: rest, baseURL: ollamaHost() };
    case 'chat':
    case 'responses':
      if (!isUrl(rest))
        throw new BackendSpecError(`${scheme}: needs a URL, e.g. ${scheme}:http://127.0.0.1:8000/v1`);
      return { scheme, baseURL: rest };
    case 'native':
      if (!rest)
        throw new BackendSpecError('native: needs a model directory, e.g. native:/models/gpt-oss-20b');
      return { scheme, target: rest };
    default:
      if (extraSchemes.has(scheme)) return { scheme, target: rest };
      throw new BackendSpecError(
        `unknown backend '${spec}': use a URL (http://127.0.0.1:8000), chat:URL, responses:URL, ollama:MODEL, ollama-chat:MODEL, script:FILE or native:DIR`,
      );
  }
}

export function ollamaHost(): string {
  const h = process.env.OLLAMA_HOST;
  if (!h) return 'http://127.0.0.1:11434';
  return isUrl(h) ? h : `http://${h}`;
}

/** A server root without a trailing slash or `/v1`. */
const serverRoot = (url: string) => url.replace(/\/+$/, '').replace(/\/v1$/, '');

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

type Probe<T> = { ok: true; body: T } | { ok: false; error: string };

async function getJson<T>(url: string, timeoutMs: number, apiKey?: string): Promise<Probe<T>> {
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    });
    if (!res.ok) return { ok: false, error: `HTTP ${res.status}` };
    return { ok: true, body: (await res.json()) as T };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, error: cause?.code ?? cause?.message ?? (err as Error).message };
  }
}

/** Asks an OpenAI-compatible server which models it serves. */
export async function listModels(baseURL: string, apiKey?: string, timeoutMs = 3000): Promise<string[]> {
  const url = `${serverRoot(baseURL)}/v1/models`;
  const r = await getJson<{ data?: { id: string }[] }>(url, timeoutMs, apiKey);
  if (!r.ok) throw new BackendUnavailableError(`${url} did not answer (${r.error})`);
  return (r.body.data ?? []).map((m) => m.id);
}

async function openaiModel(baseURL: string, flags: BackendFlags): Promise<string> {
  if (flags.model) return flags.model;
  const models = await listModels(baseURL, flags.apiKey, flags.probeTimeoutMs);
  if (!models[0])
    throw new BackendUnavailableError(`${serverRoot(baseURL)} lists no models; pass a model name`);
  return models[0];
}

/** A plain URL: Ollama if it answers `/api/tags`, else token ids on `/v1/completions` (vLLM, llama.cpp). */
async function backendForUrl(url: string, flags: BackendFlags): Promise<Backend> {
  const root = serverRoot(url);
  const timeout = flags.probeTimeoutMs ?? 3000;
  const apiKey = flags.apiKey ?? process.env.OPENAI_API_KEY;
  const tags = await getJson<{ models?: { name: string }[] }>(`${root}/api/tags`, timeout);
  if (tags.ok && Array.isArray(tags.body.models)) {
    const model = flags.model ?? tags.body.models.map((m) => m.name).find((n) => n.startsWith('gpt-oss'));
    if (!model)
      throw new BackendUnavailableError(
        `Ollama at ${root} has no gpt-oss model: run 'ollama pull gpt-oss:20b'`,
      );
    return new OllamaGenerateBackend({ baseURL: root, model });
  }
  if (flags.model) return new CompletionsBackend({ baseURL: root, model: flags.model, apiKey });
  const models = await getJson<{ data?: { id: string }[] }>(`${root}/v1/models`, timeout, apiKey);
  if (!models.ok) {
    const why = tags.ok ? models.error : tags.error;
    throw new BackendUnavailableError(`Nothing answers at ${root} (${why})`);
  }
  const model = models.body.data?.[0]?.id;
  if (!model) throw new BackendUnavailableError(`${root} lists no models; pass a model name`);
  return new CompletionsBackend({ baseURL: root, model, apiKey });
}

/** Turns a spec (string or parsed) into a backend, probing servers where the spec leaves a choice open. */
export async function backendFromSpec(
  spec: string | BackendSpec,
  flags: BackendFlags = {},
): Promise<Backend> {
  const s = typeof spec === 'string' ? parseBackendSpec(spec) : spec;
  if ('file' in s) return new ScriptedBackend(await readScript(s.file), { id: `script:${s.file}` });
  if ('model' in s) {
    return s.scheme === 'ollama-chat'
      ? new OllamaChatBackend({ model: s.model, baseURL: s.baseURL })
      : new OllamaGenerateBackend({ model: s.model, baseURL: s.baseURL });
  }
  if ('baseURL' in s) {
    if (s.scheme === 'url') return backendForUrl(s.baseURL, flags);
    const model = await openaiModel(s.baseURL, flags);
    const apiKey = flags.apiKey ?? process.env.OPENAI_API_KEY;
    const baseURL = `${serverRoot(s.baseURL)}/v1`;
    if (s.scheme === 'responses') return new ResponsesBackend({ baseURL, model, apiKey });
    let profile: (typeof PROFILES)[ProfileName] | undefined;
    if (flags.profile) {
      if (!(flags.profile in PROFILES)) {
        throw new BackendSpecError(`profile must be one of ${Object.keys(PROFILES).join(', ')}`);
      }
      profile = PROFILES[flags.profile as ProfileName];
    }
    return new ChatCompletionsBackend({ baseURL, model, apiKey, ...(profile ? { profile } : {}) });
  }
  const factory = extraSchemes.get(s.scheme);
  if (!factory) {
    throw new BackendSpecError(
      s.scheme === 'native'
        ? 'native: the in-process engine is not registered: install @harmonia/engine and call registerNativeBackend()'
        : `unknown backend scheme '${s.scheme}'`,
    );
  }
  return factory(s.target, flags);
}
