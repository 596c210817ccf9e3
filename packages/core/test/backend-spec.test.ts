/**
 * Backend specs: what a user writes in `--backend` / `HARMONIA_BACKEND` becomes the right adapter. Plain URLs are
 * probed on 127.0.0.1 fakes: Ollama answers `/api/tags`, vLLM answers `/v1/models`.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BackendSpecError,
  BackendUnavailableError,
  backendFromSpec,
  CompletionsBackend,
  OllamaGenerateBackend,
  parseBackendSpec,
  registerBackendScheme,
  ScriptedBackend,
} from '../src/index.js';
import { FakeServer } from './fakes/server.js';

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fake(routes: Record<string, unknown>): Promise<FakeServer> {
  const s = await new FakeServer((req) =>
    req.path in routes
      ? { status: 200, json: routes[req.path] }
      : { status: 404, json: { error: 'not found' } },
  ).start();
  servers.push(s);
  return s;
}

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('backend specs', () => {
  it('recognises Ollama behind a plain URL and picks its gpt-oss model', async () => {
    const s = await fake({
      '/api/version': { version: '0.12.3' },
      '/api/tags': { models: [{ name: 'llama3:8b' }, { name: 'gpt-oss:20b' }] },
    });
    const b = await backendFromSpec(s.url);
    expect(b).toBeInstanceOf(OllamaGenerateBackend);
    expect(b.id).toContain('gpt-oss:20b');
    expect(s.requests.map((r) => r.path)).toContain('/api/tags');
  });

  it('says what to pull when Ollama has no gpt-oss model', async () => {
    const s = await fake({
      '/api/version': { version: '0.12.3' },
      '/api/tags': { models: [{ name: 'llama3:8b' }] },
    });
    await expect(backendFromSpec(s.url)).rejects.toThrow(/ollama pull gpt-oss:20b/);
  });

  it('sends other servers token ids on /v1/completions, with or without /v1 in the URL', async () => {
    const s = await fake({ '/v1/models': { data: [{ id: 'openai/gpt-oss-120b' }] } });
    for (const url of [s.url, `${s.url}/v1`, `${s.url}/v1/`]) {
      const b = await backendFromSpec(url);
      expect(b).toBeInstanceOf(CompletionsBackend);
      expect(b.id).toBe(`completions:${s.url} openai/gpt-oss-120b`);
    }
    expect(await backendFromSpec(s.url, { model: 'mine' }).then((b) => b.id)).toBe(
      `completions:${s.url} mine`,
    );
  });

  it('reports a server that does not answer as unavailable, naming the address', async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    const err = await backendFromSpec(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toContain(url);
  });

  it('rejects malformed specs with a BackendSpecError that says what to write', async () => {
    expect(() => parseBackendSpec('ftp://x')).toThrow(BackendSpecError);
    expect(() => parseBackendSpec('ollama:')).toThrow(/ollama: needs a model/);
    expect(() => parseBackendSpec('native:')).toThrow(/native: needs a model directory/);
    await expect(backendFromSpec('script:/nonexistent.json')).rejects.toThrow(/cannot read script/);
  });

  it('opens registered schemes (how @harmonia/engine adds native:DIR)', async () => {
    const seen: string[] = [];
    registerBackendScheme('test-scheme', async (target) => {
      seen.push(target);
      return new ScriptedBackend([]);
    });
    expect(await backendFromSpec('test-scheme:/some/dir')).toBeInstanceOf(ScriptedBackend);
    expect(seen).toEqual(['/some/dir']);
  });
});
