/** The `run`, `chat` and `doctor` commands, end to end with a scripted model or local fake servers. */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryIO } from '../../cli/src/command.js';
import { chatCommand } from '../../cli/src/commands/chat.js';
import { doctorCommand } from '../../cli/src/commands/doctor.js';
import { runCommand } from '../../cli/src/commands/run.js';
import { type FakeHandler, FakeServer } from './fakes/server.js';
import { H } from './helpers.js';

function io(stdinText = '') {
  const t = memoryIO(stdinText);
  return { io: t.io, out: t.stdout, err: t.stderr };
}

async function script(steps: string[]): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'harmonia-run-'));
  const file = join(dir, 'script.json');
  await writeFile(file, JSON.stringify(steps));
  return { dir, file };
}

describe('harmonia run', () => {
  it('runs a scripted model with the echo tool, writing events and a journal', async () => {
    const { dir, file } = await script([
      H.analysis('Echo it.') + H.call('functions.echo', '{"text":"ping"}'),
      H.final('The tool said ping.'),
    ]);
    const t = io();
    const events = join(dir, 'events.jsonl');
    const journal = join(dir, 'journal.jsonl');
    const code = await runCommand.run(
      [
        '--backend',
        `script:${file}`,
        '--input',
        'Echo ping',
        '--tools',
        'echo',
        '--events',
        events,
        '--journal',
        journal,
      ],
      t.io,
    );
    expect(t.err()).toBe('');
    expect(code).toBe(0);
    expect(t.out()).toBe('The tool said ping.\n');
    const evs = (await readFile(events, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(evs.map((e) => e.type)).toContain('tool_call_finished');
    expect(evs.find((e) => e.type === 'tool_call_finished').output).toBe('{"text":"ping"}');
    expect(evs.at(-1).type).toBe('done');
    const calls = (await readFile(journal, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(calls).toHaveLength(2);
    expect(calls[0].prompt).toContain('<|start|>user<|message|>Echo ping<|end|><|start|>assistant');
    expect(calls[0].prompt).toContain('Reasoning: low');
    expect(calls[1].prompt).toContain(
      '<|start|>functions.echo to=assistant<|channel|>commentary<|message|>{"text":"ping"}<|end|>',
    );
  });

  it('rejects bad flags and bad scripts with usage errors', async () => {
    await expect(
      runCommand.run(['--backend', 'script:/nonexistent.json', '--input', 'x'], io().io),
    ).rejects.toThrow(/cannot read script/);
    await expect(runCommand.run(['--input', 'x'], io().io)).rejects.toThrow(/--backend is required/);
    const { file } = await script([H.final('x')]);
    await expect(
      runCommand.run(['--backend', `script:${file}`, '--input', 'x', '--tools', 'nope'], io().io),
    ).rejects.toThrow(/unknown tool 'nope'.*known: echo/);
    await expect(
      runCommand.run(['--backend', `script:${file}`, '--input', 'x', '--effort', 'max'], io().io),
    ).rejects.toThrow(/--effort must be/);
    await expect(runCommand.run(['--backend', 'ftp://x', '--input', 'x'], io().io)).rejects.toThrow(
      /unknown backend 'ftp:\/\/x'/,
    );
  });

  it('surfaces a typed error when the script runs out', async () => {
    const { file } = await script([H.call('functions.echo', '{}')]);
    await expect(
      runCommand.run(['--backend', `script:${file}`, '--input', 'x', '--tools', 'echo'], io().io),
    ).rejects.toThrow(/unexpected model call #2/);
  });
});

describe('harmonia chat', () => {
  it('reads lines, streams answers and keeps one conversation', async () => {
    const { file } = await script([H.analysis('hidden') + H.final('Hello!'), H.final('Still here.')]);
    const t = io('hi\nare you there?\n/exit\n');
    expect(await chatCommand.run(['--backend', `script:${file}`], t.io)).toBe(0);
    expect(t.out()).toContain('Hello!');
    expect(t.out()).toContain('Still here.');
    expect(t.out()).not.toContain('hidden');
  });
});

describe('harmonia doctor', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** A vLLM-like server; `misconfigured` = started without the gpt-oss parser flags. */
  const vllm =
    (misconfigured: boolean): FakeHandler =>
    (req) => {
      if (req.path === '/v1/models')
        return { status: 200, json: { object: 'list', data: [{ id: 'openai/gpt-oss-20b' }] } };
      if (req.path === '/v1/completions') {
        return { status: 200, json: { choices: [{ text: 'hi', token_ids: [1, 2], finish_reason: 'stop' }] } };
      }
      const effort = req.body.reasoning_effort as string;
      if (req.body.tools) {
        const message = misconfigured
          ? { role: 'assistant', content: 'analysis We call get_weather {"city":"Paris"}', tool_calls: [] }
          : {
              role: 'assistant',
              content: null,
              reasoning: 'Call the tool.',
              tool_calls: [
                {
                  id: 'c1',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
                },
              ],
            };
        return { status: 200, json: { choices: [{ message, finish_reason: 'tool_calls' }] } };
      }
      const tokens = misconfigured ? 50 : effort === 'high' ? 400 : 40;
      return {
        status: 200,
        json: {
          choices: [{ message: { role: 'assistant', content: '3', reasoning: 'r' } }],
          usage: { completion_tokens: tokens },
        },
      };
    };

  it('passes a well-configured server', async () => {
    server = await new FakeServer(vllm(false)).start();
    const t = io();
    expect(await doctorCommand.run(['--backend', server.url], t.io)).toBe(0);
    expect(t.out()).toContain('✓ reachable');
    expect(t.out()).toContain('✓ token level');
    expect(t.out()).toContain('message.reasoning');
    expect(t.out()).toContain('✓ reasoning effort is honoured (low 40, high 400');
    expect(t.out()).toContain('All checks passed.');
  });

  it('prints what to fix on a server without the gpt-oss parser flags', async () => {
    server = await new FakeServer(vllm(true)).start();
    const t = io();
    expect(await doctorCommand.run(['--backend', server.url], t.io)).toBe(1);
    expect(t.out()).toContain('--reasoning-parser openai_gptoss');
    expect(t.out()).toContain('reasoning effort seems ignored');
  });

  it('reports an unreachable server', async () => {
    server = await new FakeServer(() => ({ status: 200, json: {} })).start();
    const url = server.url;
    await server.close();
    server = undefined;
    const t = io();
    expect(await doctorCommand.run(['--backend', url, '--timeout', '5'], t.io)).toBe(1);
    expect(t.out()).toContain('✗ cannot reach');
  });

  it('checks Ollama think levels and tools', async () => {
    server = await new FakeServer((req) => {
      if (req.path === '/api/tags') return { status: 200, json: { models: [{ name: 'gpt-oss:20b' }] } };
      if (req.path === '/api/show')
        return { status: 200, json: { capabilities: ['completion', 'tools', 'thinking'] } };
      if (req.path === '/api/generate') {
        return { status: 200, json: { response: '<|channel|>final<|message|>hi', done: true } };
      }
      const think = req.body.think as string;
      const message = req.body.tools
        ? {
            role: 'assistant',
            content: '',
            thinking: 't',
            tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }],
          }
        : { role: 'assistant', content: '3', thinking: 'x'.repeat(think === 'high' ? 300 : 30) };
      return { status: 200, json: { message, done: true, eval_count: think === 'high' ? 300 : 30 } };
    }).start();
    const t = io();
    const prev = process.env.OLLAMA_HOST;
    process.env.OLLAMA_HOST = server.url;
    try {
      expect(await doctorCommand.run(['--backend', 'ollama:gpt-oss:20b'], t.io)).toBe(0);
    } finally {
      if (prev === undefined) delete process.env.OLLAMA_HOST;
      else process.env.OLLAMA_HOST = prev;
    }
    expect(t.out()).toContain('✓ think levels are honoured (low 30, high 300');
    expect(t.out()).toContain('✓ tool calls come back');
    expect(server.requests.find((r) => r.path === '/api/chat')?.body.think).toBe('low');
  });
});
