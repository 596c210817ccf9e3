/** The `run` and `chat` commands, end to end with a scripted model (doctor: cli/test/backends.test.ts). */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../../cli/src/command.js';
import { chatCommand } from '../../cli/src/commands/chat.js';
import { runCommand } from '../../cli/src/commands/run.js';
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
