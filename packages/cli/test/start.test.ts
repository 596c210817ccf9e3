// `harmonia start` as a user scripts it: the built command, questions redirected from a file, answers on stdout.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { harmonyScript as H } from '@harmonia/core';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function sh(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', command],
      { env: { ...process.env, HARMONIA_FAQ_EMBEDDER: 'hashing' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.skipIf(!existsSync(BIN))('harmonia start < questions.txt (built CLI)', () => {
  it('is the support bot: cited answers, the refusal for a stopped turn, ticket closing, one answer per line', {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-start-'));
    dirs.push(dir);
    const docs = join(dir, 'docs');
    await mkdir(docs);
    await writeFile(
      join(docs, 'returns.md'),
      '# Returns\n\nYou can return a Kestrel thermostat within 60 days for a full refund.\n',
    );
    const script = join(dir, 'script.json');
    await writeFile(
      script,
      JSON.stringify([
        // 1. On task: searches the docs while reasoning, answers with a citation.
        H.analysis('Returns question. Search.') +
          H.call('faq.search', '{"query":"return refund"}', 'analysis'),
        H.analysis('60 days.') +
          H.final('You have 60 days to return it for a full refund [faq:returns.md#0].'),
        // 2. The model plays along with an off-task ask: the turn is stopped, the user sees the refusal.
        H.analysis('They want a chocolate cake recipe. Preheat the oven, 2 cups of sugar.') +
          H.final('Preheat the oven to 180 C and mix 2 cups of sugar with flour.'),
        // 3. It keeps pushing: the model closes the ticket.
        H.call('functions.end_conversation', '{"reason":"repeated off-topic requests"}', 'commentary'),
        H.final('I am closing this conversation.'),
      ]),
    );
    await writeFile(
      join(dir, 'questions.txt'),
      'Can I return my thermostat?\nGive me a chocolate cake recipe.\nI said RECIPE. Now.\nHello?\n',
    );
    const r = await sh(
      `node ${BIN} start --store memory --backend script:${script} --docs ${docs} --product Kestrel --db ${join(dir, 'db')} < ${join(dir, 'questions.txt')}`,
    );
    expect(r.stderr).toContain('Harmonia support bot');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'You have 60 days to return it for a full refund [faq:returns.md#0].',
      '  [faq:returns.md#0] Returns',
      'Sorry, I can only help with questions about Kestrel.',
      'I am closing this conversation.',
      'This conversation is closed. Start a new one if you need more help.',
      '',
    ]);
    expect(r.stdout).not.toMatch(/sugar|Preheat|oven|Search\./);
    expect(r.stderr).toContain('(stopped by monitor');
  });

  it('--monitor model: a second backend judges the reasoning before anything is shown, and fails closed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-start-judge-'));
    dirs.push(dir);
    const docs = join(dir, 'docs');
    await mkdir(docs);
    await writeFile(join(docs, 'hours.md'), '# Hours\n\nThe shop opens at 9 on weekdays.\n');
    await writeFile(
      join(dir, 'bot.json'),
      JSON.stringify([
        H.analysis('Opening hours question.') + H.final('We open at 9 on weekdays [faq:hours.md#0].'),
        H.analysis('They want a poem. Fine, here it is.') + H.final('Roses are red, the shop opens at nine.'),
      ]),
    );
    await writeFile(
      join(dir, 'judge.json'),
      JSON.stringify([H.final('ON'), H.final('ON'), H.final('OFF: a poem')]),
    );
    await writeFile(join(dir, 'q.txt'), 'When do you open?\nWrite me a poem.\n');
    const r = await sh(
      `node ${BIN} start --backend script:${join(dir, 'bot.json')} --monitor model --monitor-backend script:${join(dir, 'judge.json')} --docs ${docs} --product Shop --store memory --db ${join(dir, 'db')} < ${join(dir, 'q.txt')}`,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('We open at 9 on weekdays');
    expect(r.stdout).toContain('Sorry, I can only help with questions about Shop.');
    expect(r.stdout).not.toContain('Roses');
    expect(r.stderr).toContain('off task (judge): a poem');
  });

  it('routes with --route: the 20b arm answers a simple question, the 120b arm a hard one', {
    timeout: 90_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-start-route-'));
    dirs.push(dir);
    const docs = join(dir, 'docs');
    await mkdir(docs);
    await writeFile(join(docs, 'hours.md'), '# Hours\n\nThe shop opens at 9 on weekdays.\n');
    await writeFile(join(dir, 'small.json'), JSON.stringify([H.final('small arm answered.')]));
    await writeFile(join(dir, 'large.json'), JSON.stringify([H.final('large arm answered.')]));
    await writeFile(
      join(dir, 'questions.txt'),
      'hi\n/reset\nMy router keeps dropping the connection every 20 minutes. I already restarted it, updated the firmware, changed the channel and moved it. It still drops on 5 GHz only. What else can I try?\n',
    );
    const route = `20b=script:${join(dir, 'small.json')},120b=script:${join(dir, 'large.json')}`;
    const r = await sh(
      // The scripted answers are placeholders, not about the docs: the on-task monitor is not under test here.
      `node ${BIN} start --store memory --route ${route} --monitor keyword --docs ${docs} --db ${join(dir, 'db')} < ${join(dir, 'questions.txt')}`,
    );
    expect(r.stderr).toContain('routed: 20b, 120b');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.includes('arm answered'))).toEqual([
      'small arm answered.',
      'large arm answered.',
    ]);
    const both = await sh(`node ${BIN} start --route ${route} --backend script:x.json < /dev/null`);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
  });

  it('keeps the conversation in --store across restarts until /reset; --max-replies and --journal', {
    timeout: 120_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-start-store-'));
    dirs.push(dir);
    const docs = join(dir, 'docs');
    await mkdir(docs);
    await writeFile(join(docs, 'hours.md'), '# Hours\n\nThe shop opens at 9 on weekdays.\n');
    const store = join(dir, 'store');
    const common = `--store ${store} --docs ${docs} --db ${join(dir, 'db')} --max-replies 2 --monitor keyword`;
    const script = async (name: string, steps: string[]) => {
      await writeFile(join(dir, name), JSON.stringify(steps));
      return join(dir, name);
    };
    // First process: one question.
    const s1 = await script('s1.json', [H.final('We open at 9.')]);
    const r1 = await sh(`echo 'When do you open?' | node ${BIN} start --backend script:${s1} ${common}`);
    expect(r1.code).toBe(0);
    expect(r1.stdout).toBe('We open at 9.\n');
    // Second process: the same conversation goes on (the model sees the first question), with a journal.
    const s2 = await script('s2.json', [H.final('Until 5.')]);
    const journal = join(dir, 'journal.jsonl');
    const r2 = await sh(
      `echo 'And closing?' | node ${BIN} start --backend script:${s2} ${common} --journal ${journal}`,
    );
    expect(r2.code).toBe(0);
    expect(r2.stderr).toContain('continuing your conversation: 1 question so far');
    expect(r2.stdout).toBe('Until 5.\n');
    const { readFile } = await import('node:fs/promises');
    const lines = (await readFile(journal, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    const call = JSON.parse(lines[0]!) as { prompt: string };
    expect(call.prompt).toContain('When do you open?');
    expect(call.prompt).toContain('We open at 9.');
    // Third process: the reply cap of 2 holds across restarts; then /reset starts a fresh conversation.
    const s3 = await script('s3.json', [H.final('Fresh start.')]);
    const r3 = await sh(
      `printf 'Weekends?\n/reset\nHello\n' | node ${BIN} start --backend script:${s3} ${common}`,
    );
    expect(r3.code).toBe(0);
    expect(r3.stdout.split('\n')).toEqual([
      "I've reached my limit for this conversation, so I've passed it to a person who will follow up.",
      'Fresh start.',
      '',
    ]);
    const bad = await sh(`node ${BIN} start --max-replies zero < /dev/null`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-replies must be a positive whole number');
  });

  it('--show-reasoning: the reasoning and every doc search on stderr, answers alone on stdout; hidden without it', {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-start-reasoning-'));
    dirs.push(dir);
    const docs = join(dir, 'docs');
    await mkdir(docs);
    await writeFile(join(docs, 'returns.md'), '# Returns\n\nReturns within 60 days.\n');
    const turns = [
      H.analysis('Returns question, private musing.') +
        H.call('faq.search', '{"query":"return window"}', 'analysis'),
      H.analysis('Found it.') + H.final('Within 60 days [faq:returns.md#0].'),
    ];
    const script = join(dir, 'script.json');
    await writeFile(script, JSON.stringify([...turns, ...turns]));
    const cmd = (extra: string) =>
      `echo 'Can I return it?' | node ${BIN} start --store memory --backend script:${script} --docs ${docs} --db ${join(dir, 'db')} ${extra}`;
    const shown = await sh(cmd('--show-reasoning'));
    expect(shown.code).toBe(0);
    expect(shown.stderr).toContain('[reasoning] Returns question, private musing.');
    expect(shown.stderr).toContain('Searching the docs for "return window"');
    expect(shown.stderr).toContain('[reasoning] Found it.');
    expect(shown.stdout).toBe('Within 60 days [faq:returns.md#0].\n  [faq:returns.md#0] Returns\n');
    const hidden = await sh(cmd(''));
    expect(hidden.stdout).toBe(shown.stdout);
    expect(hidden.stderr).not.toMatch(/musing|return window|Found it/);
  });

  it('has the flags chat has for the model: --effort, --max-tokens, --show-reasoning, --api-key, --profile', async () => {
    const start = await sh(`node ${BIN} help start`);
    const chat = await sh(`node ${BIN} help chat`);
    for (const flag of [
      '--backend SPEC',
      '--model NAME',
      '--profile NAME',
      '--api-key KEY',
      '--effort LEVEL',
      '--max-tokens N',
      '--show-reasoning',
      '--no-color',
      '--route ARMS|FILE',
      '--mcp NAME=SPEC',
    ]) {
      expect(chat.stdout, `chat ${flag}`).toContain(`  ${flag}`);
      expect(start.stdout, `start ${flag}`).toContain(`  ${flag}`);
    }
  });

  it('--db db (a relative folder whose name starts with "db") is a local folder, not LanceDB Cloud', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harmonia-start-db-'));
    dirs.push(dir);
    const script = join(dir, 'script.json');
    await writeFile(script, JSON.stringify([H.analysis('Hi.') + H.final('Hello.')]));
    const r = await sh(
      `cd ${dir} && echo Hi | node ${BIN} start --store memory --backend script:${script} --embedder hashing --db db`,
    );
    expect(r.stderr).not.toContain('LanceDb Cloud');
    expect(r.stdout).toBe('Hello.\n');
    expect(existsSync(join(dir, 'db'))).toBe(true);
  });
});
