import { type Backend, BackendUnavailableError, backendFromSpec } from '@harmonia/core';

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

  Local checkpoint (no server; the native engine, built on first use):
    # download the gpt-oss-20b checkpoint folder (config.json, tokenizer, safetensors) to /models/gpt-oss-20b
    export HARMONIA_BACKEND=native:/models/gpt-oss-20b
`;

/**
 * The backend a FAQ agent or bot runs on, from a backend spec (usually `HARMONIA_BACKEND`): an Ollama or vLLM URL
 * (probed), `ollama:MODEL`, `native:DIR` where the engine is registered, and the rest of `backendFromSpec`'s
 * schemes. When none is given or nothing answers, the `BackendUnavailableError` says what to run to get one.
 */
export async function faqBackend(spec: string | undefined, model?: string): Promise<Backend> {
  if (!spec) throw new BackendUnavailableError(`HARMONIA_BACKEND is not set.\n\n${BACKEND_HELP}`);
  if (spec.startsWith('native:')) {
    // The FAQ agent and the bots take native:DIR like the CLI does; the engine loads only when it is named.
    const { registerNativeBackend } = await import('@harmonia/engine');
    registerNativeBackend();
  }
  try {
    return await backendFromSpec(spec, model ? { model } : {});
  } catch (err) {
    if (err instanceof BackendUnavailableError) {
      throw new BackendUnavailableError(`${err.message}\n\n${BACKEND_HELP}`);
    }
    throw err;
  }
}
