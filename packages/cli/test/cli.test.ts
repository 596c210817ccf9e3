import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  return { io: { stdout, stderr, stdin: new PassThrough() }, out: () => out, err: () => err };
}

describe('harmonia command line', () => {
  it('lists every command in --help', async () => {
    const t = io();
    expect(await main(['--help'], t.io)).toBe(0);
    for (const name of ['harmony', 'run', 'chat', 'router', 'engine', 'tool', 'faq'])
      expect(t.out()).toContain(name);
  });

  it('rejects an unknown command with exit code 2', async () => {
    const t = io();
    expect(await main(['nope'], t.io)).toBe(2);
    expect(t.err()).toContain("unknown command 'nope'");
  });
});
