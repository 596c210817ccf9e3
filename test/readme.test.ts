/**
 * The README's "A first agent" snippet, run as written against a local replay of vLLM's `/v1/completions`
 * (token ids in and out) on 127.0.0.1: only the server address is changed.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decode } from '@harmonia/core';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeServer } from '../packages/core/test/fakes/server.js';
import { vllmCompletions } from '../packages/core/test/fakes/wire.js';

const snippetFile = fileURLToPath(new URL('./.readme-snippet.tmp.ts', import.meta.url));
afterAll(() => rmSync(snippetFile, { force: true }));

function readmeSnippet(): string {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const section = readme.split('## A first agent')[1] ?? '';
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('README has no ```ts block under "## A first agent"');
  return code;
}

describe('README', () => {
  it('"A first agent" runs as written: the tool is called and the final text comes back', async () => {
    const server = await new FakeServer(
      vllmCompletions([
        { reasoning: 'Need the weather.', calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] },
        { reasoning: 'It is 21C.', content: 'It is 21°C in Paris.' },
      ]),
    ).start();
    try {
      const code = readmeSnippet();
      expect(code).toContain("'http://127.0.0.1:8000'");
      writeFileSync(
        snippetFile,
        `${code.replace("'http://127.0.0.1:8000'", `'${server.url}'`).replace('console.log(result.finalText);', '')}\nexport { result };\n`,
      );
      const { result } = (await import(snippetFile)) as { result: { finalText: string } };
      expect(result.finalText).toBe('It is 21°C in Paris.');
      expect(server.requests.map((r) => r.path)).toEqual(['/v1/completions', '/v1/completions']);
      const second = decode(server.requests[1]!.body.prompt as number[]);
      expect(second).toContain('type get_weather = (_: {\ncity: string,\n}) => any;');
      expect(second).toContain(
        '<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{"city":"Paris","tempC":21}<|end|>',
      );
    } finally {
      await server.close();
    }
  });
});
