/**
 * What a Chat Completions server expects for gpt-oss, per server. Defaults come from each server's documented
 * wire format (shared/spec/frameworks.md §2 A4–A6, D19–D20; ecosystem.md §6) and are exercised by the
 * conformance suite against a local replay of that format.
 */
export interface CapabilityProfile {
  name: string;
  /**
   * The field the server reads past reasoning from on an assistant message that carries tool calls.
   * `null`: never send it (Groq rejects the property with HTTP 400).
   */
  replayReasoningAs: 'reasoning' | 'reasoning_content' | 'thinking' | null;
  /** How reasoning effort is sent: `reasoning_effort: 'low'` or OpenRouter's `reasoning: { effort }`. */
  effortAs: 'reasoning_effort' | 'reasoning_object';
}

export const PROFILES = {
  /** vLLM ≥ 0.11 reads and writes `reasoning` (`reasoning_content` was removed). */
  vllm: { name: 'vllm', replayReasoningAs: 'reasoning', effortAs: 'reasoning_effort' },
  /** Ollama `/v1`: `reasoning` on messages; `reasoning_effort` maps to its `think` level. */
  ollama: { name: 'ollama', replayReasoningAs: 'reasoning', effortAs: 'reasoning_effort' },
  openrouter: { name: 'openrouter', replayReasoningAs: 'reasoning', effortAs: 'reasoning_object' },
  /** Groq answers "property 'reasoning' is unsupported" when history carries reasoning. */
  groq: { name: 'groq', replayReasoningAs: null, effortAs: 'reasoning_effort' },
  /** LM Studio separates reasoning into `reasoning_content` (DeepSeek convention). */
  lmstudio: { name: 'lmstudio', replayReasoningAs: 'reasoning_content', effortAs: 'reasoning_effort' },
  /** OpenAI's guidance for gpt-oss: `reasoning`. The default for unknown servers. */
  openai: { name: 'openai', replayReasoningAs: 'reasoning', effortAs: 'reasoning_effort' },
} as const satisfies Record<string, CapabilityProfile>;

export type ProfileName = keyof typeof PROFILES;

/** Picks a profile from a base URL's host (`openrouter.ai`, `groq.com`, port 11434 → Ollama, 1234 → LM Studio). */
export function guessProfile(baseURL: string): CapabilityProfile {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    return PROFILES.openai;
  }
  if (url.hostname.endsWith('openrouter.ai')) return PROFILES.openrouter;
  if (url.hostname.endsWith('groq.com')) return PROFILES.groq;
  if (url.port === '11434') return PROFILES.ollama;
  if (url.port === '1234') return PROFILES.lmstudio;
  if (url.port === '8000') return PROFILES.vllm;
  return PROFILES.openai;
}
