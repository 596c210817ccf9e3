/**
 * The one table of backend schemes: the parser, its error messages and every CLI help text are made from it.
 * A spec is the one string a user writes to say where gpt-oss runs (`--backend`, `HARMONIA_BACKEND`).
 */
export interface BackendScheme {
  /** The word before the colon; `url` for a plain `http(s)://` address. */
  scheme: 'url' | 'chat' | 'responses' | 'ollama' | 'ollama-chat' | 'script' | 'native';
  /** What follows the colon. */
  arg: 'URL' | 'MODEL' | 'FILE' | 'DIR';
  /** How it is written, e.g. `ollama:MODEL`. */
  form: string;
  example: string;
  /** One line for help texts. */
  summary: string;
}

export const BACKEND_SCHEMES: readonly BackendScheme[] = [
  {
    scheme: 'url',
    arg: 'URL',
    form: 'http(s)://HOST:PORT',
    example: 'http://127.0.0.1:8080',
    summary: 'a server, probed: llama.cpp, vLLM (token ids), Ollama (raw), LM Studio, harmonia serve (chat)',
  },
  {
    scheme: 'chat',
    arg: 'URL',
    form: 'chat:URL',
    example: 'chat:http://127.0.0.1:8000/v1',
    summary: 'Chat Completions; profile from the server, its host or --profile',
  },
  {
    scheme: 'responses',
    arg: 'URL',
    form: 'responses:URL',
    example: 'responses:http://127.0.0.1:8000/v1',
    summary: 'the Responses API (full history each call)',
  },
  {
    scheme: 'ollama',
    arg: 'MODEL',
    form: 'ollama:MODEL',
    example: 'ollama:gpt-oss:20b',
    summary: 'Ollama /api/generate, raw Harmony ($OLLAMA_HOST, default :11434)',
  },
  {
    scheme: 'ollama-chat',
    arg: 'MODEL',
    form: 'ollama-chat:MODEL',
    example: 'ollama-chat:gpt-oss:20b',
    summary: 'Ollama /api/chat (it applies Harmony)',
  },
  {
    scheme: 'script',
    arg: 'FILE',
    form: 'script:FILE',
    example: 'script:examples/scripts/hello.json',
    summary: 'JSON array of Harmony completions, one per model call (no model)',
  },
  {
    scheme: 'native',
    arg: 'DIR',
    form: 'native:DIR',
    example: 'native:/models/gpt-oss-20b',
    summary: 'the in-process engine on a checkpoint folder',
  },
];

export const schemeInfo = (scheme: string): BackendScheme | undefined =>
  BACKEND_SCHEMES.find((s) => s.scheme === scheme);

/** "a URL (http://127.0.0.1:8080), chat:URL, …, script:FILE or native:DIR" */
export function backendForms(): string {
  const forms = BACKEND_SCHEMES.map((s) => (s.scheme === 'url' ? `a URL (${s.example})` : s.form));
  return `${forms.slice(0, -1).join(', ')} or ${forms.at(-1)}`;
}

/** The help block listing every scheme, one per line, indented by `indent` spaces. */
export function backendHelp(indent = 2): string {
  const pad = ' '.repeat(indent);
  const width = Math.max(...BACKEND_SCHEMES.map((s) => s.form.length)) + 2;
  return BACKEND_SCHEMES.map((s) => `${pad}${s.form.padEnd(width)}${s.summary}`).join('\n');
}
