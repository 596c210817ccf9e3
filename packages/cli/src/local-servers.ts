/**
 * What `harmonia start` does when no backend is named: it looks for a model server on its default local port
 * and says what it found; with none, it prints how to get one and how to try Harmonia without a model.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { identifyServer, type ServerIdentity } from '@harmonia/core';

export const LOCAL_SERVERS: readonly { name: string; url: string }[] = [
  { name: 'Ollama', url: 'http://127.0.0.1:11434' },
  { name: 'vLLM', url: 'http://127.0.0.1:8000' },
  { name: 'llama.cpp', url: 'http://127.0.0.1:8080' },
  { name: 'LM Studio', url: 'http://127.0.0.1:1234' },
];

/** The candidates: `$HARMONIA_LOCAL_SERVERS` (comma-separated URLs) or the default ports above. */
export function localCandidates(env: NodeJS.ProcessEnv = process.env): { name: string; url: string }[] {
  const list = env.HARMONIA_LOCAL_SERVERS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list?.length ? list.map((url) => ({ name: url, url })) : [...LOCAL_SERVERS];
}

/** Probes every candidate at once (no key is sent: none was given for them); the first that answers wins. */
export async function findLocalServer(
  candidates = localCandidates(),
  timeoutMs = 800,
): Promise<ServerIdentity | undefined> {
  const found = await Promise.all(candidates.map((c) => identifyServer(c.url, { timeoutMs })));
  return found.find((f) => f.identity)?.identity;
}

/** The shipped demo script, when Harmonia runs from a checkout. */
export function demoScript(): string | undefined {
  const p = fileURLToPath(new URL('../../../examples/scripts/start-demo.json', import.meta.url));
  return existsSync(p) ? p : undefined;
}

/** How the user ran harmonia: `pnpm -s harmonia` in a checkout (a package script), else the installed command. */
export function invokedAs(env: NodeJS.ProcessEnv = process.env): string {
  return env.npm_lifecycle_event === 'harmonia' ? 'pnpm -s harmonia' : 'harmonia';
}

export function noServerHelp(tried: readonly { name: string; url: string }[]): string {
  const demo = demoScript() ?? 'FILE.json (a JSON array of Harmony completions)';
  const h = invokedAs();
  return `No model server answered (tried ${tried.map((t) => `${t.name} ${t.url.replace('http://127.0.0.1', '')}`).join(', ')}).

Get one, then run '${h} start' again (or set HARMONIA_BACKEND=URL):
  Ollama     ollama serve & ollama pull gpt-oss:20b
  vLLM       vllm serve openai/gpt-oss-20b --port 8000
  llama.cpp  llama-server -hf ggml-org/gpt-oss-20b-GGUF --jinja --port 8080
  LM Studio  lms get openai/gpt-oss-20b && lms server start

Or try Harmonia without a model:
  1. a scripted model (answers you write, in the Harmony format):
       ${h} start --backend script:${demo}
  2. a synthetic checkpoint (random weights in the real format: the native engine runs, the words are noise):
       ${h} engine synth --out /tmp/tiny --preset tiny --vocab 201088
       ${h} start --backend native:/tmp/tiny --max-tokens 64
`;
}
