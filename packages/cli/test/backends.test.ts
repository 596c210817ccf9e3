/**
 * The CLI against whole-server fakes (core/test/fakes/servers.ts): `doctor` on each server, every command reading
 * HARMONIA_BACKEND, keys sent only where they were given, --version and `help CMD`, and the smaller CLI defects.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeServer } from '../../core/test/fakes/server.js';
import {
  llamaCppServer,
  lmStudioServer,
  ollamaServer,
  type ServerFake,
  vllmServer,
} from '../../core/test/fakes/servers.js';
import type { FakeTurn } from '../../core/test/fakes/wire.js';
import { memoryIO } from '../src/command.js';
import { invokedAs } from '../src/local-servers.js';
import { main } from '../src/main.js';
import { registerTool } from '../src/tools-registry.js';

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(f: ServerFake): Promise<FakeServer> {
  const s = await new FakeServer(f.handler).start();
  servers.push(s);
  return s;
}

const TOOL: FakeTurn = {
  reasoning: 'Need the weather.',
  calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }],
};
const FINAL: FakeTurn = { reasoning: 'Sunny.', content: 'It is sunny in Paris.' };
const runs = (n: number) => Array.from({ length: n }, () => [TOOL, FINAL]).flat();

async function withEnv<T>(env: Record<string, string | undefined>, f: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const k of Object.keys(env)) {
    saved[k] = process.env[k];
    if (env[k] === undefined) delete process.env[k];
    else process.env[k] = env[k];
  }
  try {
    return await f();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('harmonia doctor on each server', () => {
  it.each([
    ['llama.cpp', () => llamaCppServer(runs(3)), /found llamacpp b6500/, /token ids on \/completion/, 3],
    ['vLLM', () => vllmServer(runs(3)), /found vllm 0\.11\.0/, /token ids on \/v1\/completions/, 3],
    ['Ollama', () => ollamaServer(runs(3)), /found ollama 0\.12\.3/, /raw Harmony on \/api\/generate/, 3],
    [
      'LM Studio',
      () => lmStudioServer(runs(2)),
      /found lmstudio/,
      /Chat Completions \(profile lmstudio\)/,
      2,
    ],
  ] as const)(
    '%s: identifies it, drives each protocol it has and gives the verdict',
    async (_n, fake, found, used, protocols) => {
      const s = await serve(fake());
      const t = memoryIO();
      const code = await main(['doctor', '--backend', s.url, '--timeout', '10'], t.io);
      const out = t.stdout();
      expect(out).toMatch(found);
      expect(out).toMatch(/the agent will use: .*/);
      expect(out).toMatch(new RegExp(`Verdict: ready — ${used.source}`));
      // Each protocol ran a tool call and an answer through the real backend.
      expect(out.match(/✓ .*answered in .* tool called \(Paris\), reasoning returned/g)).toHaveLength(
        protocols,
      );
      expect(code).toBe(0);
      expect(s.requests.filter((r) => r.method === 'POST')).toHaveLength(protocols * 2);
    },
  );

  it('checks every protocol with the model given by --model, as the agent would use it', async () => {
    const s = await serve(vllmServer(runs(3)));
    const t = memoryIO();
    const code = await main(['doctor', '--backend', s.url, '--model', 'my-gpt-oss', '--timeout', '10'], t.io);
    const posts = s.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(6);
    expect(posts.map((r) => r.body.model)).toEqual(Array(6).fill('my-gpt-oss'));
    expect(code).toBe(0);
  });

  it('fails with a fix when nothing answers', async () => {
    const s = await serve(vllmServer([]));
    const url = s.url;
    await s.close();
    servers.length = 0;
    const t = memoryIO();
    expect(await main(['doctor', '--backend', url, '--timeout', '2'], t.io)).toBe(1);
    expect(t.stdout()).toMatch(/✗ Nothing answers at/);
    expect(t.stdout()).toMatch(/Verdict: not usable/);
  });

  it('says the protocol the agent uses is broken when its model calls fail', async () => {
    const fake = vllmServer([]);
    const s = await serve(fake);
    const t = memoryIO();
    expect(await main(['doctor', '--backend', s.url, '--only', '--timeout', '5'], t.io)).toBe(1);
    expect(t.stdout()).toMatch(/✗ token ids on \/v1\/completions \[used by the agent\]: BackendError/);
  });
});

/** A server that records the authorization header of every request and serves a vLLM fake. */
async function keyRecorder(
  fake: ServerFake,
): Promise<{ url: string; auth: (string | undefined)[]; server: Server }> {
  const auth: (string | undefined)[] = [];
  const inner = await serve(fake);
  const server = createServer(async (req, res) => {
    auth.push(req.headers.authorization);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = await fetch(`${inner.url}${req.url}`, {
      method: req.method,
      headers: { 'content-type': 'application/json' },
      ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
    });
    res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await r.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  raws.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, auth, server };
}
const raws: Server[] = [];
afterEach(async () => {
  for (const s of raws.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

describe('HARMONIA_BACKEND and keys', () => {
  it('run and doctor read HARMONIA_BACKEND; HARMONIA_API_KEY goes to that backend only', async () => {
    const k = await keyRecorder(vllmServer([FINAL, ...runs(3)]));
    await withEnv(
      { HARMONIA_BACKEND: k.url, HARMONIA_API_KEY: 'env-key', OPENAI_API_KEY: 'sk-nope' },
      async () => {
        const t = memoryIO();
        expect(await main(['run', '--input', 'Weather?'], t.io)).toBe(0);
        expect(t.stdout()).toBe('It is sunny in Paris.\n');
        expect(k.auth.length).toBeGreaterThan(1);
        expect(k.auth.every((a) => a === 'Bearer env-key')).toBe(true);

        k.auth.length = 0;
        const d = memoryIO();
        expect(await main(['doctor', '--only'], d.io)).toBe(0);
        expect(d.stdout()).toContain('key: sent');
        expect(k.auth.every((a) => a === 'Bearer env-key')).toBe(true);
      },
    );
  });

  it('never sends HARMONIA_API_KEY or OPENAI_API_KEY to a backend given on the command line', async () => {
    const k = await keyRecorder(vllmServer([FINAL, FINAL]));
    await withEnv(
      {
        HARMONIA_BACKEND: 'http://127.0.0.1:9/elsewhere',
        HARMONIA_API_KEY: 'env-key',
        OPENAI_API_KEY: 'sk-nope',
      },
      async () => {
        const t = memoryIO();
        expect(await main(['run', '--backend', k.url, '--input', 'hi'], t.io)).toBe(0);
        expect(k.auth.every((a) => a === undefined)).toBe(true);
        const u = memoryIO();
        expect(await main(['run', '--backend', k.url, '--api-key', 'flag-key', '--input', 'hi'], u.io)).toBe(
          0,
        );
        expect(k.auth.slice(-2).every((a) => a === 'Bearer flag-key')).toBe(true);
      },
    );
  });

  it('asks for --backend or HARMONIA_BACKEND when neither is set', async () => {
    await withEnv({ HARMONIA_BACKEND: undefined }, async () => {
      const t = memoryIO();
      expect(await main(['run', '--input', 'hi'], t.io)).toBe(2);
      expect(t.stderr()).toMatch(/--backend is required \(or set HARMONIA_BACKEND\): a URL .* native:DIR/);
    });
  });
});

describe('the first commands a newcomer types', () => {
  it('--version prints the version', async () => {
    const t = memoryIO();
    expect(await main(['--version'], t.io)).toBe(0);
    expect(t.stdout()).toMatch(/^harmonia \d+\.\d+\.\d+\n$/);
  });

  it('help CMD prints that command’s help, for groups too', async () => {
    const t = memoryIO();
    expect(await main(['help', 'chat'], t.io)).toBe(0);
    expect(t.stdout()).toMatch(/^Usage: harmonia chat/);
    expect(t.stdout()).toContain('native:DIR');
    const g = memoryIO();
    expect(await main(['help', 'harmony', 'render'], g.io)).toBe(0);
    expect(g.stdout()).toMatch(/^Usage: harmonia harmony render/);
  });
});

describe('smaller defects', () => {
  it('chat disposes its tools on /exit (a python container would keep the process alive)', async () => {
    let disposed = 0;
    const keepAlive = setInterval(() => {}, 1000);
    registerTool('held', () => ({
      name: 'held',
      description: 'holds a resource',
      tools: [],
      dispose: async () => {
        disposed++;
        clearInterval(keepAlive);
      },
    }));
    const script = join(tmpdir(), `harmonia-chat-${process.pid}.json`);
    await writeFile(script, JSON.stringify([]));
    const t = memoryIO('/exit\n');
    expect(await main(['chat', '--backend', `script:${script}`, '--tools', 'held'], t.io)).toBe(0);
    expect(disposed).toBe(1);
  });

  it('run: --allow-host and --search-backend are checked and need the browser', async () => {
    const script = join(tmpdir(), `harmonia-run-${process.pid}.json`);
    await writeFile(script, JSON.stringify(['<|channel|>final<|message|>ok']));
    const a = memoryIO();
    expect(
      await main(['run', '--backend', `script:${script}`, '--input', 'x', '--allow-host', '127.0.0.1'], a.io),
    ).toBe(2);
    expect(a.stderr()).toContain('need --tools browser');
    const b = memoryIO();
    expect(
      await main(
        [
          'run',
          '--backend',
          `script:${script}`,
          '--input',
          'x',
          '--tools',
          'browser',
          '--search-backend',
          'bing',
        ],
        b.io,
      ),
    ).toBe(2);
    expect(b.stderr()).toContain('--search-backend must be one of searxng, brave, exa, youcom');
  });

  it('run prints citations as links, not raw 【0†L4】', async () => {
    const { withCitations } = await import('../src/commands/run.js');
    const fakeAgent = {
      namespaces: new Map([
        [
          'browser',
          {
            citations: (_c: string, text: string) => ({
              text: text.replace('【0†L4】', ' ([example.com](https://example.com/a)) '),
            }),
          },
        ],
      ]),
    } as unknown as Parameters<typeof withCitations>[0];
    expect(withCitations(fakeAgent, 'c', 'See this【0†L4】.')).toBe(
      'See this ([example.com](https://example.com/a)) .',
    );
  });
});

describe('native:DIR outside the CLI', () => {
  it('the FAQ agent and the bots (faqBackend) open native: like the CLI, instead of "not registered"', async () => {
    const { faqBackend } = await import('@harmonia/support');
    const err = await faqBackend('native:/nonexistent/gpt-oss').catch((e: unknown) => e);
    expect((err as Error).message).not.toMatch(/not registered/);
    expect((err as Error).name).toBe('CheckpointError');
    expect((err as Error).message).toContain('/nonexistent/gpt-oss is not a checkpoint folder');
  });
});

describe('tool durations', () => {
  it('are whole tenths of a millisecond in events, not float artefacts', async () => {
    const { readFile } = await import('node:fs/promises');
    const script = join(tmpdir(), `harmonia-dur-${process.pid}.json`);
    const events = join(tmpdir(), `harmonia-dur-${process.pid}.jsonl`);
    await writeFile(
      script,
      JSON.stringify([
        '<|channel|>commentary to=functions.echo <|constrain|>json<|message|>{"text":"hi"}<|call|>',
        '<|channel|>final<|message|>done',
      ]),
    );
    const t = memoryIO();
    expect(
      await main(
        ['run', '--backend', `script:${script}`, '--tools', 'echo', '--input', 'x', '--events', events],
        t.io,
      ),
    ).toBe(0);
    const finished = (await readFile(events, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; durationMs?: number })
      .filter((e) => e.type === 'tool_call_finished');
    expect(finished).toHaveLength(1);
    const d = finished[0]!.durationMs!;
    expect(Math.round(d * 10) / 10).toBe(d);
  });
});

describe('harmonia doctor on a misconfigured vLLM', () => {
  it('says what to fix when Chat Completions leaks raw Harmony (no reasoning parser)', async () => {
    const good = vllmServer(runs(2)).handler;
    const s = await serve({
      name: 'vLLM without --reasoning-parser',
      handler: (req) => {
        if (req.path !== '/v1/chat/completions') return good(req);
        return {
          status: 200,
          json: {
            choices: [
              {
                index: 0,
                message: {
                  role: 'assistant',
                  content:
                    '<|channel|>analysis<|message|>We call get_weather.<|end|><|start|>assistant<|channel|>final<|message|><|channel|>x',
                },
                finish_reason: 'stop',
              },
            ],
          },
        };
      },
    });
    const t = memoryIO();
    const code = await main(['doctor', '--backend', s.url, '--timeout', '5'], t.io);
    // The token-level path the agent uses works; Chat Completions is reported broken with the vLLM fix.
    expect(code).toBe(0);
    expect(t.stdout()).toMatch(/✗ Chat Completions \(profile vllm\): /);
    expect(t.stdout()).toMatch(/Verdict: ready/);
  });
});

describe('engine flags', () => {
  it('--checkpoint DIR names the folder; the older --model DIR still works', async () => {
    const a = memoryIO();
    expect(await main(['engine', 'logits', '--tokens', '1'], a.io)).toBe(2);
    expect(a.stderr()).toContain('--checkpoint DIR is required');
    const b = memoryIO();
    expect(
      await main(['engine', 'logits', '--checkpoint', '/a', '--model', '/b', '--tokens', '1'], b.io),
    ).toBe(2);
    expect(b.stderr()).toContain('not both');
    for (const flag of ['--checkpoint', '--model']) {
      const c = memoryIO();
      const code = await main(['engine', 'logits', flag, '/nonexistent/ckpt', '--tokens', '1'], c.io);
      expect(code).toBe(1);
      expect(c.stderr()).toContain('/nonexistent/ckpt');
    }
  });
});

describe('start flags', () => {
  it('--effort and --max-tokens are checked before anything loads', async () => {
    const a = memoryIO();
    expect(await main(['start', '--backend', 'script:x.json', '--effort', 'extreme'], a.io)).toBe(2);
    expect(a.stderr()).toContain('--effort must be low, medium or high');
    const b = memoryIO();
    expect(await main(['start', '--backend', 'script:x.json', '--max-tokens', '0'], b.io)).toBe(2);
    expect(b.stderr()).toContain('--max-tokens must be a positive whole number');
  });
});

describe('a cut-off answer names the flag that fixes it', () => {
  it('run and chat: --max-tokens with a bigger figure, not the library option', async () => {
    const script = join(tmpdir(), `harmonia-truncated-${process.pid}.json`);
    const long = '<|channel|>final<|message|>A long answer that does not fit in three tokens.';
    await writeFile(script, JSON.stringify([long, long, long, long, long, long]));
    const r = memoryIO();
    expect(
      await main(['run', '--backend', `script:${script}`, '--max-tokens', '3', '--input', 'hi'], r.io),
    ).toBe(1);
    expect(r.stderr()).toBe(
      "harmonia run: The model's answer was cut off at 3 tokens (3 tries). Give it more room with --max-tokens 1024, or lower --effort.\n",
    );
    const c = memoryIO('hi\n/exit\n');
    expect(await main(['chat', '--backend', `script:${script}`, '--max-tokens', '3'], c.io)).toBe(0);
    expect(c.stderr()).toContain('cut off at 3 tokens (3 tries). Give it more room with --max-tokens 1024');
    expect(c.stderr()).not.toContain('sampling.maxTokens');
  });
});

describe('commands printed for the user to type', () => {
  it("say 'pnpm -s harmonia' when run as the checkout's package script, else 'harmonia'", () => {
    expect(invokedAs({ npm_lifecycle_event: 'harmonia' })).toBe('pnpm -s harmonia');
    expect(invokedAs({ npm_lifecycle_event: 'test' })).toBe('harmonia');
    expect(invokedAs({})).toBe('harmonia');
  });
});

describe('harmonia run "MESSAGE"', () => {
  it('takes the message as its one argument, like --input; two messages or both forms are usage errors', async () => {
    const script = join(tmpdir(), `harmonia-run-positional-${process.pid}.json`);
    await writeFile(script, JSON.stringify(['<|channel|>final<|message|>Four.']));
    const ok = memoryIO();
    expect(await main(['run', '--backend', `script:${script}`, 'What is 2+2?'], ok.io)).toBe(0);
    expect(ok.stdout()).toBe('Four.\n');
    const two = memoryIO();
    expect(await main(['run', '--backend', `script:${script}`, 'What', 'is'], two.io)).toBe(2);
    expect(two.stderr()).toContain(
      'give the message as one quoted argument (or --input TEXT), got 2 arguments',
    );
    const both = memoryIO();
    expect(await main(['run', '--backend', `script:${script}`, '--input', 'a', 'b'], both.io)).toBe(2);
    expect(both.stderr()).toContain('not both');
    const none = memoryIO();
    expect(await main(['run', '--backend', `script:${script}`], none.io)).toBe(2);
    expect(none.stderr()).toBe(
      'harmonia run: a message is required: harmonia run "TEXT" (or --input TEXT)\n',
    );
  });
});

describe('one flag name per meaning across commands', () => {
  it('faq ask takes the backend flags run, chat, start and doctor take; serve says --max-model-calls', async () => {
    const ask = memoryIO();
    expect(await main(['help', 'faq', 'ask'], ask.io)).toBe(0);
    for (const flag of ['--backend SPEC', '--model NAME', '--profile NAME', '--api-key KEY'])
      expect(ask.stdout()).toContain(`  ${flag}`);
    await withEnv({ HARMONIA_BACKEND: undefined }, async () => {
      const none = memoryIO();
      expect(await main(['faq', 'ask', 'Hi?'], none.io)).toBe(2);
      expect(none.stderr()).toContain('--backend is required (or set HARMONIA_BACKEND)');
    });
    const serve = memoryIO();
    expect(await main(['help', 'serve'], serve.io)).toBe(0);
    expect(serve.stdout()).toContain('  --max-model-calls N');
    const zero = memoryIO();
    expect(await main(['serve', '--backend', 'script:x.json', '--max-model-calls', '0'], zero.io)).toBe(2);
    expect(zero.stderr()).toBe('harmonia serve: --max-model-calls must be a positive integer\n');
    const both = memoryIO();
    expect(
      await main(
        ['serve', '--backend', 'script:x.json', '--max-model-calls', '2', '--max-turns', '2'],
        both.io,
      ),
    ).toBe(2);
    expect(both.stderr()).toContain('not both');
  });
});

describe('the one table of backend schemes', () => {
  it('is what every model command lists in its help, with every profile name', async () => {
    const { BACKEND_SCHEMES, PROFILE_NAMES } = await import('@harmonia/core');
    for (const cmd of [['run'], ['chat'], ['start'], ['doctor'], ['serve'], ['faq', 'ask']]) {
      const t = memoryIO();
      expect(await main(['help', ...cmd], t.io)).toBe(0);
      for (const s of BACKEND_SCHEMES) expect(t.stdout(), `${cmd.join(' ')}: ${s.form}`).toContain(s.form);
      expect(t.stdout(), cmd.join(' ')).toContain(PROFILE_NAMES.join(', '));
    }
  });
});
