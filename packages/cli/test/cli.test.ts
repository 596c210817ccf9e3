import { describe, expect, it } from 'vitest';
import { memoryIO } from '../src/command.js';
import { main } from '../src/main.js';

describe('harmonia command line', () => {
  it('lists every command in --help', async () => {
    const t = memoryIO();
    expect(await main(['--help'], t.io)).toBe(0);
    for (const name of ['harmony', 'run', 'chat', 'router', 'engine', 'tool', 'faq'])
      expect(t.stdout()).toContain(name);
  });

  it('rejects an unknown command with exit code 2', async () => {
    const t = memoryIO();
    expect(await main(['nope'], t.io)).toBe(2);
    expect(t.stderr()).toContain("unknown command 'nope'");
  });
});
