/**
 * The first minutes of a newcomer, in a real terminal (tmux): `harmonia start` with no backend anywhere, with the
 * shipped demo script, and with a synthetic checkpoint on the native engine. Each shows useful text within 2 s and
 * the screen never stays unchanged for more than 2 s while it works.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSyntheticCheckpoint } from '@harmonia/engine';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeServer } from '../../core/test/fakes/server.js';
import { vllmServer } from '../../core/test/fakes/servers.js';
import { ensureNative } from '../../engine/test/helpers.js';
import { memoryIO } from '../src/command.js';
import { main } from '../src/main.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(root, 'packages/cli/dist/bin.js');
const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * 2 s on a machine with a core to spare. On an overloaded one (load above twice the cores, as on a shared CI box
 * running many suites) every process is slowed alike, so the budget grows by that factor; the figure is reported.
 */
const budget = () => Math.round(2000 * Math.max(1, loadavg()[0]! / cpus().length / 2));

const sessions: string[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) {
    try {
      execFileSync('tmux', ['kill-session', '-t', s], { stdio: 'ignore' });
    } catch {}
  }
});

async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const pane = (s: string) => execFileSync('tmux', ['capture-pane', '-p', '-t', s], { encoding: 'utf8' });

/** Starts `cmd` in a detached 120x40 terminal and watches its screen. */
function terminal(cmd: string, env: Record<string, string>) {
  const name = `harmonia-${process.pid}-${sessions.length}`;
  sessions.push(name);
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  execFileSync('tmux', [
    'new-session',
    '-d',
    '-s',
    name,
    '-x',
    '120',
    '-y',
    '40',
    `env -u HARMONIA_BACKEND ${envArgs.join(' ')} ${cmd}; echo "[exit $?]"; sleep 30`,
  ]);
  const t0 = Date.now();
  let last = '';
  let lastChange = t0;
  let firstText = -1;
  let longestStill = 0;
  return {
    /** Polls until `re` is on screen; records when text first showed and the longest still stretch. */
    // The stretch counts while the program works; a screen waiting for the user's input is not measured
    // (`mark()` restarts the clock after keys are sent).
    async until(re: RegExp, timeoutMs = 20_000): Promise<string> {
      for (;;) {
        const now = Date.now();
        const screen = pane(name);
        if (screen.trim() && firstText < 0) firstText = now - t0;
        if (screen !== last) {
          longestStill = Math.max(longestStill, now - lastChange);
          last = screen;
          lastChange = now;
        }
        if (re.test(screen)) return screen;
        if (now - t0 > timeoutMs) throw new Error(`timed out waiting for ${re}; screen:\n${screen}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    keys: (...k: string[]) => {
      execFileSync('tmux', ['send-keys', '-t', name, ...k]);
      lastChange = Date.now();
    },
    stats: () => ({ firstText, longestStill }),
  };
}

describe.skipIf(!hasTmux)('harmonia start in a terminal', () => {
  it('with no backend anywhere: looks, says what it tried, how to get one and the two ways without a model', async () => {
    const port = await deadPort();
    const t = terminal(`node ${BIN} start`, { HARMONIA_LOCAL_SERVERS: `http://127.0.0.1:${port}` });
    const screen = await t.until(/synthetic checkpoint/);
    expect(screen).toContain('looking for a local model server');
    expect(screen).toContain('No model server answered');
    expect(screen).toContain('ollama pull gpt-oss:20b');
    expect(screen).toMatch(/harmonia start --backend script:\S*start-demo\.json/);
    // The real vocabulary: 'tiny' alone has 256 tokens, and Harmony's special tokens would not fit.
    expect(screen).toContain('harmonia engine synth --out /tmp/tiny --preset tiny --vocab 201088');
    expect(screen).toContain('harmonia start --backend native:/tmp/tiny --max-tokens 64');
    expect(t.stats().firstText).toBeLessThan(budget());
    expect(t.stats().longestStill).toBeLessThan(budget());
  });

  it('with the demo script: progress at once, then the bot answers a question', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'harmonia-newcomer-'));
    const script = join(root, 'examples/scripts/start-demo.json');
    const t = terminal(
      `node ${BIN} start --backend script:${script} --store memory --embedder hashing --db ${join(dir, 'db')}`,
      {},
    );
    await t.until(/Harmonia support bot/, 30_000);
    expect(t.stats().firstText).toBeLessThan(budget());
    expect(t.stats().longestStill).toBeLessThan(budget());
    // Line editing: a typo fixed with Backspace before Enter.
    t.keys('Hellp', 'BSpace', 'o there', 'Enter');
    const screen = await t.until(/comes from a script/, 20_000);
    expect(screen).toContain('> Hello there');
    // History: the up arrow brings the last question back.
    t.keys('Up', 'Enter');
    await t.until(/Still scripted/, 20_000);
  });

  it('chat: a spinner while the model works before its first word (reasoning is hidden), then the answer', {
    timeout: 60_000,
  }, async () => {
    // A vLLM fake that takes 3 s before it answers a model call, as a real model does while it reasons.
    const fake = vllmServer([{ reasoning: 'Thinking it over.', content: 'It is sunny in Paris.' }]);
    const server = await new FakeServer(async (req) => {
      if (req.method === 'POST') await new Promise((r) => setTimeout(r, 3000));
      return fake.handler(req);
    }).start();
    try {
      const t = terminal(`node ${BIN} chat --backend ${server.url}`, {});
      await t.until(/harmonia chat ·/, 20_000);
      t.keys('Weather in Paris?', 'Enter');
      await t.until(/Thinking… \ds/, 10_000);
      const screen = await t.until(/It is sunny in Paris\./, 30_000);
      expect(screen).not.toContain('Thinking it over');
      expect(screen).not.toMatch(/Thinking… \ds/);
      expect(t.stats().longestStill).toBeLessThan(budget());
      t.keys('/exit', 'Enter');
      await t.until(/\[exit 0\]/, 20_000);
    } finally {
      await server.close();
    }
  });

  describe('with a synthetic checkpoint (native:DIR, random weights)', () => {
    let ckpt = '';
    beforeAll(() => {
      // The addon is built on first use; build it here so the terminal measures start, not the compiler.
      ensureNative();
      ckpt = mkdtempSync(join(tmpdir(), 'harmonia-newcomer-ckpt-'));
      // 'tiny' with the real vocabulary, so Harmony prompts fit: it produces tokens, not sense.
      writeSyntheticCheckpoint({ out: ckpt, preset: 'tiny', seed: 3, overrides: { vocabSize: 201088 } });
    }, 600_000);

    it("a checkpoint without Harmony's token ids (tiny's own 256) gets the command that writes one with them", async () => {
      const small = mkdtempSync(join(tmpdir(), 'harmonia-newcomer-small-'));
      writeSyntheticCheckpoint({ out: small, preset: 'tiny', seed: 3 });
      const t = memoryIO();
      expect(await main(['run', '--backend', `native:${small}`, 'Hi'], t.io)).toBe(1);
      expect(t.stderr()).toBe(
        "harmonia run: This checkpoint's vocabulary has 256 tokens; Harmony prompts use ids up to 200018. A synthetic checkpoint needs the real vocabulary: harmonia engine synth --out DIR --preset tiny --vocab 201088\n",
      );
    });

    it('shows the model loading, a spinner while it works, then says which flag to change; /exit leaves', {
      timeout: 120_000,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'harmonia-newcomer-'));
      const t = terminal(
        `node ${BIN} start --backend native:${ckpt} --store memory --embedder hashing --monitor keyword --max-tokens 24 --db ${join(dir, 'db')}`,
        {},
      );
      await t.until(/Harmonia support bot \(native:/, 60_000);
      expect(t.stats().firstText).toBeLessThan(budget());
      expect(t.stats().longestStill).toBeLessThan(budget());
      t.keys('How do I install Harmonia?', 'Enter');
      await t.until(/Thinking… \d+s/, 10_000);
      // Random weights never end an answer: it is cut off at --max-tokens, and the user is told what to change.
      const screen = await t.until(/cut off at 24 tokens/, 90_000);
      expect(screen).toMatch(/--max-tokens \d+/);
      expect(screen).not.toMatch(/TruncatedTurnError|sampling\.maxTokens/);
      expect(t.stats().longestStill).toBeLessThan(budget());
      t.keys('/exit', 'Enter');
      await t.until(/\[exit 0\]/, 20_000);
    });
  });
});
