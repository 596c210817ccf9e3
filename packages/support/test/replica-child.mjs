/**
 * One bot replica for the replicas test: the support bot and chat adapter on a shared PostgreSQL store, fed chat
 * messages as JSON lines on stdin (all at once, concurrently, as a busy platform would deliver them). The model
 * is scripted: it waits 5–25 ms, then answers with the question and how many answers it saw in the prompt.
 * Prints one JSON line per posted message and per model call. Runs against the built packages.
 */
import { createInterface } from 'node:readline';
import { decode, harmonyScript, openStore, ScriptedBackend } from '../../core/dist/index.js';
import { createChatAdapter, createSupportBot } from '../dist/index.js';

const [url, name] = process.argv.slice(2);
const out = (o) => process.stdout.write(`${JSON.stringify({ replica: name, ...o })}\n`);
const store = await openStore(url, { maxConnections: 20 });

const steps = Array.from({ length: 200 }, () => (req) => {
  const prompt = decode(req.prompt);
  const questions = [...prompt.matchAll(/<\|start\|>user<\|message\|>(.*?)<\|end\|>/g)].map((m) => m[1]);
  const seen = (prompt.match(/<\|channel\|>final<\|message\|>/g) ?? []).length;
  return harmonyScript.final(`answer to ${questions.at(-1)} after ${seen}`);
});
const inner = new ScriptedBackend(steps);
const backend = {
  kind: 'tokens',
  id: `replica-${name}`,
  generate: (r) => inner.generate(r),
  async *stream(r) {
    const start = Date.now();
    const prompt = decode(r.prompt);
    const conv = /conv=(\S+?)\b/.exec(prompt)?.[1];
    await new Promise((res) => setTimeout(res, 5 + Math.random() * 20));
    yield* inner.stream(r);
    out({ call: true, conv, start, end: Date.now() });
  },
};
const bot = createSupportBot({
  policy: { product: 'Harmonia', allowed: ['Harmonia'] },
  backend,
  store,
  maxReplies: 100,
  currentDate: null,
});
const adapter = createChatAdapter(bot, {
  formatLink: (u) => u,
  editIntervalMs: 0,
  rateLimit: false,
  stream: false,
});

const pending = [];
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  const m = JSON.parse(line);
  const sink = {
    typing: async () => {},
    post: async (text) => out({ posted: text, messageId: m.messageId, conversationId: m.conversationId }),
    edit: async (text) => out({ edited: text, messageId: m.messageId }),
  };
  pending.push(
    adapter.onMessage(
      {
        conversationId: m.conversationId,
        text: m.text,
        author: 'user',
        isModerator: false,
        messageId: m.messageId,
      },
      sink,
    ),
  );
}
await Promise.all(pending);
await store.dispose();
out({ done: true });
