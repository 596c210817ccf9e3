/**
 * `harmonia serve` from the command line, driven by the official `openai` client: a scripted model that runs
 * python server-side in the real Docker sandbox, state kept along a `previous_response_id` chain.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { harmonyScript as H } from '@harmonia/core';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryIO } from '../src/command.js';
import { type RunningServer, startServe } from '../src/commands/serve.js';
import { main } from '../src/main.js';
import '../src/wiring.js';

const dir = mkdtempSync(join(tmpdir(), 'harmonia-serve-'));
let running: RunningServer | undefined;
afterAll(async () => {
  await running?.close();
});

function script(steps: string[]): string {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(steps));
  return file;
}

describe('harmonia serve', () => {
  it('rejects bad flags with exit code 2 and one line', async () => {
    const t = memoryIO();
    expect(await main(['serve', '--port', 'x', '--backend', `script:${script([])}`], t.io)).toBe(2);
    expect(t.stderr()).toBe("harmonia serve: --port must be an integer from 0 to 65535, got 'x'\n");
    const u = memoryIO();
    expect(await main(['serve', '--backend', `script:${script([])}`, '--tools', 'echo'], u.io)).toBe(2);
    expect(u.stderr()).toContain("'echo' is a function");
  });

  it('runs python server-side in the Docker sandbox; the kernel is kept along a previous_response_id chain', async () => {
    const file = script([
      H.analysis('Compute it with python.') + H.callAfterChannel('python', 'x = 6 * 7\nprint(x)', 'analysis'),
      H.final('The answer is 42.'),
      H.callAfterChannel('python', 'print(x + 1)', 'analysis'),
      H.final('Then 43.'),
    ]);
    const t = memoryIO();
    running = await startServe(['--backend', `script:${file}`, '--tools', 'python', '--port', '0'], t.io);
    expect(t.stdout()).toContain(`listening on ${running.url}/v1`);
    const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 120_000 });
    const stream = client.responses.stream({ model: 'gpt-oss-20b', input: 'What is 6 times 7?' });
    const types = new Set<string>();
    for await (const ev of stream) types.add(ev.type);
    const first = await stream.finalResponse();
    expect(first.output_text).toBe('The answer is 42.');
    const ci = first.output.find((o) => o.type === 'code_interpreter_call');
    expect(ci).toMatchObject({ code: 'x = 6 * 7\nprint(x)', status: 'completed' });
    expect(JSON.stringify(ci)).toContain('42');
    expect(types).toContain('response.code_interpreter_call.interpreting');
    expect(types).toContain('response.code_interpreter_call.completed');
    const second = await client.responses.create({
      model: 'gpt-oss-20b',
      input: 'And plus one?',
      previous_response_id: first.id,
    });
    expect(second.output_text).toBe('Then 43.');
    const ci2 = second.output.find((o) => o.type === 'code_interpreter_call');
    // `x` survived: the same kernel served the whole chain.
    expect(ci2?.type === 'code_interpreter_call' && ci2.outputs?.[0]).toMatchObject({
      type: 'logs',
      logs: expect.stringContaining('43'),
    });
  }, 120_000);
});
