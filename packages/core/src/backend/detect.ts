/**
 * Tells servers apart behind a plain URL by the endpoints only one of them serves (read from their route tables):
 *   llama.cpp  GET /props          tools/server/server.cpp route table (`routes.get_props`); it also answers
 *                                  /api/tags (as its /v1/models), so /api/tags alone does not mean Ollama
 *   vLLM       GET /version        vllm/entrypoints/openai/api_server.py (`show_version`)
 *   Ollama     GET /api/version    server/routes.go `GenerateRoutes` (llama.cpp has no /api/version)
 *   LM Studio  GET /api/v0/models  its native REST API (closed source; lmstudio.ai docs, lmstudio-js)
 *   Harmonia   GET /v1/models      models `owned_by: "harmonia"` (`harmonia serve`, packages/server); it has
 *                                  Chat Completions and Responses, no /v1/completions
 * anything else answering /v1/models is a generic OpenAI-compatible server. The probes run in parallel.
 */
import { authHeaders, causeOf } from './http.js';

export type ServerKind = 'llamacpp' | 'vllm' | 'ollama' | 'lmstudio' | 'harmonia' | 'openai-compatible';

export interface ServerIdentity {
  kind: ServerKind;
  /** Server root, without a trailing slash or `/v1`. */
  root: string;
  /** Models it serves (Ollama: tag names; others: `/v1/models` ids). */
  models: string[];
  version?: string;
  /** What gave it away, e.g. `GET /props answered`. */
  evidence: string;
}

export type Probe<T> = { ok: true; body: T } | { ok: false; error: string; status?: number };

export async function getJson<T>(url: string, timeoutMs: number, apiKey?: string): Promise<Probe<T>> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: authHeaders(apiKey) });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return { ok: false, error: `HTTP ${res.status}`, status: res.status };
    }
    const text = await res.text();
    try {
      return { ok: true, body: JSON.parse(text) as T };
    } catch {
      return { ok: false, error: 'not JSON', status: res.status };
    }
  } catch (err) {
    return { ok: false, error: causeOf(err) };
  }
}

/** A server root without a trailing slash or `/v1`. */
export const serverRoot = (url: string) => url.replace(/\/+$/, '').replace(/\/v1$/, '');

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

/** Identifies the server at `url`; `undefined` when nothing there answers like a model server. */
export async function identifyServer(
  url: string,
  opts: { apiKey?: string | undefined; timeoutMs?: number } = {},
): Promise<{ identity?: ServerIdentity; error: string }> {
  const root = serverRoot(url);
  const t = opts.timeoutMs ?? 3000;
  const k = opts.apiKey;
  const [props, version, ollamaVersion, lmModels, models] = await Promise.all([
    getJson<Record<string, unknown>>(`${root}/props`, t, k),
    getJson<{ version?: unknown }>(`${root}/version`, t, k),
    getJson<{ version?: unknown }>(`${root}/api/version`, t, k),
    getJson<{ data?: unknown }>(`${root}/api/v0/models`, t, k),
    getJson<{ data?: { id: string; owned_by?: unknown }[] }>(`${root}/v1/models`, t, k),
  ]);
  const ids = models.ok && Array.isArray(models.body.data) ? models.body.data.map((m) => m.id) : [];
  const owners = models.ok && Array.isArray(models.body.data) ? models.body.data.map((m) => m.owned_by) : [];
  if (
    props.ok &&
    isObject(props.body) &&
    ('default_generation_settings' in props.body || 'build_info' in props.body || 'model_path' in props.body)
  ) {
    const build = props.body.build_info;
    return {
      identity: {
        kind: 'llamacpp',
        root,
        models: ids,
        ...(typeof build === 'string' ? { version: build } : {}),
        evidence: 'GET /props answered (llama-server)',
      },
      error: '',
    };
  }
  if (ollamaVersion.ok && typeof ollamaVersion.body.version === 'string') {
    const tags = await getJson<{ models?: { name: string }[] }>(`${root}/api/tags`, t, k);
    const names = tags.ok && Array.isArray(tags.body.models) ? tags.body.models.map((m) => m.name) : [];
    return {
      identity: {
        kind: 'ollama',
        root,
        models: names,
        version: ollamaVersion.body.version,
        evidence: 'GET /api/version answered (Ollama)',
      },
      error: '',
    };
  }
  if (version.ok && typeof version.body.version === 'string') {
    return {
      identity: {
        kind: 'vllm',
        root,
        models: ids,
        version: version.body.version,
        evidence: 'GET /version answered (vLLM)',
      },
      error: '',
    };
  }
  if (lmModels.ok && Array.isArray(lmModels.body.data)) {
    const data = lmModels.body.data as { id?: string; type?: string }[];
    const llms = data.filter((m) => m.type === undefined || m.type === 'llm').map((m) => m.id ?? '');
    return {
      identity: {
        kind: 'lmstudio',
        root,
        models: ids.length ? ids : llms,
        evidence: 'GET /api/v0/models answered (LM Studio)',
      },
      error: '',
    };
  }
  if (models.ok && owners.length > 0 && owners.every((o) => o === 'harmonia')) {
    return {
      identity: {
        kind: 'harmonia',
        root,
        models: ids,
        evidence: 'GET /v1/models answered, owned_by harmonia',
      },
      error: '',
    };
  }
  if (models.ok) {
    return {
      identity: { kind: 'openai-compatible', root, models: ids, evidence: 'GET /v1/models answered' },
      error: '',
    };
  }
  if (models.status === 401 || models.status === 403)
    return {
      error: `${models.error}: it wants a key; give --api-key KEY, or HARMONIA_API_KEY with HARMONIA_BACKEND`,
    };
  return { error: models.error };
}
