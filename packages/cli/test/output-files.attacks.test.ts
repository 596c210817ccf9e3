/** Attacks on the CLI's output flags: paths that cannot be written and bad flags get one line, never a stack. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { harmonyScript as H } from '@harmonia/core';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../src/command.js';
import { main } from '../src/main.js';

describe('CLI: output files that cannot be written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harmonia-cli-attack-'));
  const script = join(dir, 'hello.json');
  writeFileSync(script, JSON.stringify([H.final('hello')]));

  it.each([
    ['--journal', '/proc/harmonia-no-such-dir/journal.jsonl'],
    ['--events', '/proc/harmonia-no-such-dir/events.jsonl'],
    ['--journal', dir],
  ])('attack: run %s %s is a one-line usage error, not a stack trace', async (flag, path) => {
    const t = memoryIO();
    const code = await main(['run', '--backend', `script:${script}`, '--input', 'hi', flag, path], t.io);
    expect(code).toBe(2);
    expect(t.stderr()).toMatch(
      new RegExp(`^harmonia run: ${flag}: cannot write .* \\((ENOENT|EISDIR)\\)\\n$`),
    );
  });

  it('attack: --events on a full device fails with one line after the run, exit 1', async () => {
    const t = memoryIO();
    const code = await main(
      ['run', '--backend', `script:${script}`, '--input', 'hi', '--events', '/dev/full'],
      t.io,
    );
    expect(code).toBe(1);
    expect(t.stderr()).toMatch(
      /^harmonia run: OutputFileError: --events: could not write \/dev\/full \(ENOSPC\)\n$/,
    );
  });

  it.each([[['--max-model-calls', 'lots']], [['--effort', 'extreme']], [['--bogus']]])(
    'attack: bad flag %o is a one-line usage error',
    async (extra) => {
      const t = memoryIO();
      const code = await main(['run', '--backend', `script:${script}`, '--input', 'hi', ...extra], t.io);
      expect(code).toBe(2);
      expect(t.stderr().trim().split('\n')).toHaveLength(1);
    },
  );
});
