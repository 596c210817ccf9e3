import OpenAI from 'openai';
import { BackendError } from './errors.js';

/** The `openai` client the message-level backends share: no retries (the agent loop decides), a long timeout. */
export function openaiClient(opts: {
  baseURL: string;
  apiKey?: string | undefined;
  client?: OpenAI | undefined;
}): OpenAI {
  return (
    opts.client ??
    new OpenAI({
      baseURL: opts.baseURL,
      apiKey: opts.apiKey ?? 'not-needed',
      maxRetries: 0,
      timeout: 600_000,
    })
  );
}

/** Calls the `openai` client, turning its HTTP errors into a `BackendError` that names the server. */
export async function viaOpenAI<T>(backendId: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof OpenAI.APIError) {
      throw new BackendError(
        `${backendId}: HTTP ${err.status ?? '?'}: ${err.message}`,
        err.status ?? undefined,
      );
    }
    throw err;
  }
}
