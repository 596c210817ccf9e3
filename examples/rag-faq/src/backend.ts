import { type Backend, CompletionsBackend, OllamaGenerateBackend } from '@harmonia/core';

/** No backend answered at the address given, or none was given. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

/** What to run to get a backend, printed when none is reachable. Ollama, vLLM and a local checkpoint. */
export const BACKEND_HELP = `No model backend is reachable. Start one, then set HARMONIA_BACKEND:

  Ollama (laptop, simplest):
    ollama serve &                       # https://ollama.com to install
    ollama pull gpt-oss:20b
    export HARMONIA_BACKEND=http://127.0.0.1:11434

  vLLM (GPU server, shared by many users):
    pip install vllm
    vllm serve openai/gpt-oss-20b --port 8000
    export HARMONIA_BACKEND=http://127.0.0.1:8000

  Local checkpoint (no server; the native engine, CLI only):
    # download the gpt-oss-20b checkpoint folder (config.json, tokenizer, safetensors) to /models/gpt-oss-20b
    export HARMONIA_BACKEND=native:/models/gpt-oss-20b
`;

/**
 * Resolves an Ollama or vLLM URL to a token-level backend: Ollama is recognised by `/api/tags` (the first
 * `gpt-oss` model it has, or `model`), anything else is asked for `/v1/models` (vLLM, llama.cpp). `ollama:MODEL`
 * names an Ollama model directly. Network errors become a `BackendUnavailableError` that carries `BACKEND_HELP`.
 */
export async function backendFromUrl(spec: string, model?: string, timeoutMs = 3000): Promise<Backend> {
  if (spec.startsWith('ollama:')) {
    return new OllamaGenerateBackend({
      baseURL: process.env.OLLAMA_HOST ?? 'http://127.0.0.1:11434',
      model: spec.slice(7),
    });
  }
  if (!/^https?:\/\//.test(spec)) {
    throw new BackendUnavailableError(
      `HARMONIA_BACKEND='${spec}' is not an Ollama or vLLM URL.\n\n${BACKEND_HELP}`,
    );
  }
  const base = spec.replace(/\/+$/, '').replace(/\/v1$/, '');
  const tags = await getJson<{ models?: { name: string }[] }>(`${base}/api/tags`, timeoutMs);
  if (tags.ok && Array.isArray(tags.body.models)) {
    const names = tags.body.models.map((m) => m.name);
    const pick = model ?? names.find((n) => n.startsWith('gpt-oss'));
    if (!pick)
      throw new BackendUnavailableError(
        `Ollama at ${base} has no gpt-oss model: run 'ollama pull gpt-oss:20b'`,
      );
    return new OllamaGenerateBackend({ baseURL: base, model: pick });
  }
  const models = await getJson<{ data?: { id: string }[] }>(`${base}/v1/models`, timeoutMs);
  if (models.ok && Array.isArray(models.body.data)) {
    const pick = model ?? models.body.data[0]?.id;
    if (!pick) throw new BackendUnavailableError(`${base} serves no model`);
    return new CompletionsBackend({ baseURL: base, model: pick });
  }
  throw new BackendUnavailableError(
    `Nothing answers at ${base} (${models.ok ? 'not Ollama or OpenAI-compatible' : models.error}).\n\n${BACKEND_HELP}`,
  );
}

async function getJson<T>(
  url: string,
  timeoutMs: number,
): Promise<{ ok: true; body: T } | { ok: false; error: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { ok: false, error: `HTTP ${res.status}` };
    return { ok: true, body: (await res.json()) as T };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
    return {
      ok: false,
      error:
        cause?.code ??
        cause?.errors?.[0]?.code ??
        (cause as Error | undefined)?.message ??
        (err as Error).message,
    };
  }
}
