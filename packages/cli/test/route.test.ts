import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { harmonyScript as H } from '@harmonia/core';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../src/command.js';
import { main } from '../src/main.js';

const dir = mkdtempSync(join(tmpdir(), 'harmonia-route-'));
const script = (name: string, answer: string) => {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify([H.final(answer)]));
  return `script:${file}`;
};
const SIMPLE = 'What are your store hours on Saturday?';
const HARD =
  'My router keeps dropping the connection every 20 minutes. I already restarted it, updated the firmware, changed the channel and moved it. It still drops on 5 GHz only. What else can I try?';

async function routed(route: string, input: string, extra: string[] = []) {
  const events = join(dir, `events-${Math.random().toString(36).slice(2)}.jsonl`);
  const t = memoryIO();
  const code = await main(
    ['run', '--route', route, '--input', input, '--events', events, '--json', ...extra],
    t.io,
  );
  const lines = readFileSync(events, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { code, t, result: JSON.parse(t.stdout()), started: lines.filter((e) => e.type === 'turn_started') };
}

describe('harmonia run --route', () => {
  it('records which arm answered, in the events and the result', async () => {
    const route = `20b=${script('small', 'from 20b')},120b=${script('large', 'from 120b')}`;
    const easy = await routed(route, SIMPLE);
    expect(easy.code).toBe(0);
    expect(easy.result.finalText).toBe('from 20b');
    expect(easy.started[0]).toMatchObject({ decision: { model: '20b', served: '20b' } });
    expect(easy.started[0].backend).toContain('small.json');
    expect(easy.result.routing[0]).toMatchObject({ model: '20b', arm: '20b-low', served: '20b' });

    const hard = await routed(route, HARD);
    expect(hard.result.finalText).toBe('from 120b');
    expect(hard.started[0]).toMatchObject({ decision: { model: '120b', served: '120b' } });
    expect(hard.started[0].decision.reason).toMatch(/p\(120b\)/);
  });

  it('takes named arms and a config file with a policy and prices', async () => {
    const config = join(dir, 'route.json');
    writeFileSync(
      config,
      JSON.stringify({
        arms: { '20b-low': script('a', 'arm 20b-low'), '120b-high': script('b', 'arm 120b-high') },
        policy: { model: '120b' },
        prices: { '120b': { inputPerMTok: 0.1, outputPerMTok: 0.5 } },
      }),
    );
    const r = await routed(config, SIMPLE);
    expect(r.result.finalText).toBe('arm 120b-high');
    // 120b-low was decided (the policy pins 120b); the nearest configured arm of that model served it.
    expect(r.result.routing[0]).toMatchObject({ model: '120b', served: '120b-high' });
    expect(r.result.routing[0].expectedCost).toBeGreaterThan(0);
  });

  it('bad route flags are usage errors', async () => {
    for (const [args, msg] of [
      [['--route', '30b=script:x.json'], "unknown arm '30b'"],
      [['--route', '20b='], '20b has no backend spec'],
      [['--route', '20b=script:x.json', '--backend', 'script:x.json'], 'not both'],
      [['--route', join(dir, 'missing.json')], 'cannot read'],
      [['--backend', 'script:x.json', '--prices', 'p.json'], '--prices needs --route'],
    ] as const) {
      const s = memoryIO();
      expect(await main(['serve', ...args], s.io), `serve ${args.join(' ')}`).toBe(2);
      const t = memoryIO();
      expect(await main(['run', ...args, '--input', 'x'], t.io), args.join(' ')).toBe(2);
      expect(t.stderr()).toContain(msg);
    }
  });
});

describe('harmonia serve --route', () => {
  it('routes each conversation of the API to an arm; the OpenAI SDK sees the chosen arm answer', async () => {
    const { default: OpenAI } = await import('openai');
    const { startServe } = await import('../src/commands/serve.js');
    const route = `20b=${script('serve-small', 'from the 20b arm')},120b=${script('serve-large', 'from the 120b arm')}`;
    const t = memoryIO();
    const server = await startServe(['--route', route, '--port', '0'], t.io);
    try {
      expect(t.stdout()).toContain('routed (20b, 120b)');
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const easy = await client.chat.completions.create({
        model: 'auto',
        messages: [{ role: 'user', content: SIMPLE }],
      });
      expect(easy.choices[0]?.message.content).toBe('from the 20b arm');
      const hard = await client.chat.completions.create({
        model: 'auto',
        messages: [{ role: 'user', content: HARD }],
      });
      expect(hard.choices[0]?.message.content).toBe('from the 120b arm');
    } finally {
      await server.close();
    }
  }, 60_000);
});
