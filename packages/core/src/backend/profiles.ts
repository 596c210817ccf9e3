/**
 * What a Chat Completions server expects for gpt-oss, per server, read from each server's code where it is public
 * (cited per profile) and from the provider's API reference where it is not.
 */
export interface CapabilityProfile {
  name: ProfileName;
  /**
   * The field the server reads past reasoning from on an assistant message that carries tool calls.
   * `null`: never send it (Groq rejects the property with HTTP 400).
   */
  replayReasoningAs: 'reasoning' | 'reasoning_content' | 'thinking' | null;
  /** Also send reasoning back as OpenRouter's `reasoning_details` blocks (it asks for them to be preserved). */
  replayReasoningDetails?: boolean;
  /** How reasoning effort is sent: `reasoning_effort: 'low'` or OpenRouter's `reasoning: { effort }`. */
  effortAs: 'reasoning_effort' | 'reasoning_object';
}

export type ProfileName = 'vllm' | 'llamacpp' | 'ollama' | 'lmstudio' | 'openrouter' | 'groq' | 'openai';

export const PROFILES = {
  /**
   * vLLM: `parse_chat_input_to_harmony_message` (vllm/entrypoints/.../harmony_utils.py) reads `reasoning` from an
   * assistant message with tool calls and renders it as an analysis message; answers carry `reasoning`.
   */
  vllm: { name: 'vllm', replayReasoningAs: 'reasoning', effortAs: 'reasoning_effort' },
  /**
   * llama.cpp: `common_chat_msgs_parse_oaicompat` (common/chat.cpp) reads only `reasoning_content`; answers carry
   * `reasoning_content` (`common_chat_msg::to_json_oaicompat`).
   */
  llamacpp: { name: 'llamacpp', replayReasoningAs: 'reasoning_content', effortAs: 'reasoning_effort' },
  /**
   * Ollama `/v1`: openai/openai.go `FromChatRequest` maps `reasoning` to the message's `thinking`;
   * `reasoning_effort` maps to its `think` level (`thinkFromReasoningEffort`).
   */
  ollama: { name: 'ollama', replayReasoningAs: 'reasoning', effortAs: 'reasoning_effort' },
  /** LM Studio (closed source; its OpenAI-compatibility docs): reasoning separated into `reasoning_content`. */
  lmstudio: { name: 'lmstudio', replayReasoningAs: 'reasoning_content', effortAs: 'reasoning_effort' },
  /**
   * OpenRouter (hosted; its API reference): `reasoning: { effort }`; answers carry `reasoning` and
   * `reasoning_details`, and it asks for `reasoning_details` to be passed back unchanged on tool-call turns.
   */
  openrouter: {
    name: 'openrouter',
    replayReasoningAs: 'reasoning',
    replayReasoningDetails: true,
    effortAs: 'reasoning_object',
  },
  /** Groq (hosted): answers "property 'reasoning' is unsupported" when history carries reasoning. */
  groq: { name: 'groq', replayReasoningAs: null, effortAs: 'reasoning_effort' },
  /** OpenAI's guidance for gpt-oss: `reasoning`. The default for unknown servers. */
  openai: { name: 'openai', replayReasoningAs: 'reasoning', effortAs: 'reasoning_effort' },
} as const satisfies Record<ProfileName, CapabilityProfile>;

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export function isProfileName(s: string): s is ProfileName {
  return s in PROFILES;
}

/** Picks a profile from a base URL's host or a server's default port (11434 Ollama, 1234 LM Studio, 8080 llama.cpp, 8000 vLLM). */
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
  if (url.port === '8080') return PROFILES.llamacpp;
  if (url.port === '8000') return PROFILES.vllm;
  return PROFILES.openai;
}
