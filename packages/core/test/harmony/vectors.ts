/** Loads the official openai-harmony v0.0.8 vectors copied into test/fixtures/harmony (see its SOURCES.md). */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Message, Role } from '../../src/harmony/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/harmony/', import.meta.url));

/** File text as the official tests compare it: `\r\n` → `\n`, trailing whitespace trimmed. */
export function vectorText(file: string): string {
  return readFileSync(FIXTURES + file, 'utf8')
    .replaceAll('\r\n', '\n')
    .trimEnd();
}
export const vectorFiles = (): string[] => readdirSync(FIXTURES).filter((f) => f.endsWith('.txt'));

export interface RenderCase {
  id: string;
  api:
    | 'render_conversation_for_completion'
    | 'render_conversation'
    | 'render_conversation_for_training'
    | 'render';
  next_turn_role?: Role;
  config: { auto_drop_analysis: boolean } | null;
  conversation: Message[];
  expected_file: string | null;
  expected_text?: string;
  compare: 'tokens' | 'text';
}
export type Segment =
  | { text_with_specials: string }
  | { text_ordinary: string }
  | { tokens: number[] }
  | { tokens_file: string }
  | { text_file: string };
export interface ParseCase {
  id: string;
  api: string;
  role: Role | null;
  strict: boolean;
  input: Segment[];
  derived_input_tokens: number[];
  expected: {
    messages?: Message[];
    message_count?: number;
    error_contains?: string;
    current_content?: string;
    concatenated_last_content_deltas?: string;
    then_process_token_of?: string;
    then_last_content_delta?: string;
    then_current_content?: string;
    after_eos_last_content_delta?: string | null;
    after_eos_current_content?: string;
  };
}
export interface TokenizerCase {
  id: string;
  input?: string;
  allowed_special?: string[] | 'all';
  disallowed_special?: string[] | 'all';
  expected_tokens?: number[];
  expected_error_contains?: string;
  expected?: Record<string, boolean>;
  expected_decode?: Record<string, string>;
  tokens?: number[];
  decode_utf8_expected_error_contains?: string;
  lossy_decode_contains?: string;
  stop_tokens?: number[];
  stop_tokens_for_assistant_actions?: number[];
}
export interface InlineCases {
  render_cases: RenderCase[];
  parse_cases: ParseCase[];
  tokenizer_cases: TokenizerCase[];
}

export const inlineCases = (): InlineCases =>
  JSON.parse(readFileSync(`${FIXTURES}inline_cases.json`, 'utf8'));
export const derivedTokens = (): Record<string, number[]> =>
  JSON.parse(readFileSync(`${FIXTURES}derived_tokens.json`, 'utf8')).files;
