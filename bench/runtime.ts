/**
 * Runtime benchmark: agent-loop overhead per model call, excluding the model, on a 20-message conversation
 * (goal: < 1 ms). The model is an instant backend replaying pre-encoded tokens, the store returns the same
 * history every time, so what is timed is the runtime itself: system/developer messages, the reasoning-drop
 * view, Harmony rendering and encoding of the whole prompt, streaming parse of the answer, turn classification,
 * events, tool dispatch and the result. The peer, measured in the same run, is the naive loop most hand-rolled
 * integrations use: render the conversation with plain string templates, encode it, decode the answer and split
 * it with a regular expression (no validation, no events, no tools).
 * Run from the repo root after `pnpm -s build`:  node --import tsx bench/runtime.ts
 */
import {
  Agent,
  type ConversationRecord,
  type ConversationStore,
  decode,
  encode,
  type Message,
  renderConversationForCompletion,
  run,
  type TokenBackend,
  type TokenChunk,
  type TokenRequest,
  type ToolNamespace,
} from '@harmonia/core';

const words = (n: number, seed: string) =>
  Array.from({ length: n }, (_, i) => `${seed}${(i * 7919) % 97}`).join(' ');
const text = (t: string) => [{ type: 'text' as const, text: t }];

// ---- a 20-message conversation: 4 rounds of user → reasoning → call → tool result → final ----
const history: Message[] = [];
for (let r = 0; r < 4; r++) {
  history.push({ role: 'user', content: text(`Question ${r}: ${words(30, 'q')}`) });
  history.push({ role: 'assistant', channel: 'analysis', content: text(words(40, 'think')) });
  history.push({
    role: 'assistant',
    recipient: 'functions.lookup',
    channel: 'commentary',
    content_type: '<|constrain|>json',
    content: text(JSON.stringify({ query: words(6, 'k') })),
  });
  history.push({
    role: 'tool',
    name: 'functions.lookup',
    recipient: 'assistant',
    channel: 'commentary',
    content: text(JSON.stringify({ results: [words(40, 'doc'), words(40, 'doc')] })),
  });
  history.push({ role: 'assistant', channel: 'final', content: text(words(60, 'answer')) });
}
if (history.length !== 20) throw new Error('expected 20 messages');

const FINAL = encode(
  `<|channel|>analysis<|message|>${words(40, 'r')}<|end|><|start|>assistant<|channel|>final<|message|>${words(60, 'a')}<|return|>`,
  {
    allowSpecial: true,
  },
);
const CALL = encode(
  `<|channel|>analysis<|message|>${words(20, 'r')}<|end|><|start|>assistant to=functions.lookup<|channel|>commentary <|constrain|>json<|message|>{"query":"x y z"}<|call|>`,
  { allowSpecial: true },
);

/** Answers instantly from a fixed list of outputs, cycling. */
class InstantBackend implements TokenBackend {
  readonly kind = 'tokens' as const;
  readonly id = 'instant';
  private i = 0;
  promptTokens = 0;
  lastPrompt: number[] = [];
  constructor(private readonly outputs: number[][]) {}
  private next(r: TokenRequest) {
    this.promptTokens = r.prompt.length;
    this.lastPrompt = r.prompt;
    return this.outputs[this.i++ % this.outputs.length]!;
  }
  async generate(r: TokenRequest) {
    const tokens = this.next(r);
    return {
      tokens,
      finishReason: 'stop' as const,
      usage: { promptTokens: r.prompt.length, completionTokens: tokens.length },
    };
  }
  async *stream(r: TokenRequest): AsyncIterable<TokenChunk> {
    const tokens = this.next(r);
    yield { type: 'tokens', tokens };
    yield {
      type: 'finish',
      finishReason: 'stop',
      usage: { promptTokens: r.prompt.length, completionTokens: tokens.length },
    };
  }
}

/**
 * Always the same 20-message history, as fresh objects on every load like a real store (so nothing rendered
 * in an earlier run is reused); appends are dropped (the store is not what is measured).
 */
class FixedStore implements ConversationStore {
  async load(id: string): Promise<ConversationRecord> {
    return { id, messages: history.map((m) => ({ ...m })), createdAt: '', updatedAt: '' };
  }
  async append(): Promise<void> {}
  async list() {
    return [];
  }
  async close(): Promise<void> {}
}

// A hand-written namespace (the bench package does not depend on zod): parse + check + answer.
const lookup: ToolNamespace = {
  name: 'functions',
  placement: 'developer',
  config: () => ({
    name: 'functions',
    tools: [
      {
        name: 'lookup',
        description: 'Searches the knowledge base.',
        parameters: {
          type: 'object',
          properties: { query: { type: 'string', description: 'What to look for' } },
          required: ['query'],
        },
      },
    ],
  }),
  async call(_fn, args) {
    const { query } = JSON.parse(args) as { query: string };
    return { text: JSON.stringify({ results: [`hit for ${query}`] }) };
  },
};
const makeAgent = (outputs: number[][]) => {
  const backend = new InstantBackend(outputs);
  const agent = new Agent({
    instructions: 'You are a support agent. Answer briefly and cite the knowledge base.',
    tools: [lookup],
    backend,
    effort: 'low',
    currentDate: '2026-01-15',
    store: new FixedStore(),
  });
  return { agent, backend };
};

// ---- the naive peer ----
const systemText =
  "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\nCurrent date: 2026-01-15\n\nReasoning: low\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.\nCalls to these tools must go to the commentary channel: 'functions'.<|end|>";
const developerText =
  '<|start|>developer<|message|># Instructions\n\nYou are a support agent. Answer briefly and cite the knowledge base.\n\n# Tools\n\n## functions\n\nnamespace functions {\n\n// Searches the knowledge base.\ntype lookup = (_: {\n// What to look for\nquery: string,\n}) => any;\n\n} // namespace functions<|end|>';
function naiveTurn(msgs: Message[], input: string, output: number[]): { prompt: number[]; final: string } {
  let s = systemText + developerText;
  for (const m of msgs) {
    const body = m.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
    const who = m.role === 'tool' ? m.name : m.role;
    const to = m.recipient ? ` to=${m.recipient}` : '';
    const ch = m.channel ? `<|channel|>${m.channel}` : '';
    const ct = m.content_type ? ` ${m.content_type}` : '';
    const end = m.role === 'assistant' && m.recipient ? '<|call|>' : '<|end|>';
    s += `<|start|>${who}${to}${ch}${ct}<|message|>${body}${end}`;
  }
  s += `<|start|>user<|message|>${input}<|end|><|start|>assistant`;
  const prompt = encode(s, { allowSpecial: true });
  const out = decode(output);
  const final = /<\|channel\|>final<\|message\|>([\s\S]*?)(?:<\|return\|>|<\|end\|>|$)/.exec(out)?.[1] ?? '';
  return { prompt, final };
}

// ---- timing ----
async function timeAsync(n: number, f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - t0) / n;
}
function timeSync(n: number, f: () => unknown): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t0) / n;
}

const finalAgent = makeAgent([FINAL]);
const toolAgent = makeAgent([CALL, FINAL]);
const input = `Question 5: ${words(30, 'q')}`;

// Sanity: both paths produce the same answer text and prompts of similar size.
const check = await run(finalAgent.agent, input, { conversationId: 'bench' });
// The peer renders the same view ours sends (finished turns' reasoning dropped), so both encode the same text.
const peerHistory = history.filter((m) => m.channel !== 'analysis');
const naive = naiveTurn(peerHistory, input, FINAL);
if (check.finalText !== naive.final) throw new Error('runtime and peer disagree on the final text');
const view = [...check.transcript.slice(0, 2), ...peerHistory, check.newMessages[0]!];
const fullRender = renderConversationForCompletion({ messages: view }, 'assistant');
if (fullRender.join() !== finalAgent.backend.lastPrompt.join())
  throw new Error('incremental prompt != full render');
if (decode(fullRender) !== decode(naive.prompt)) throw new Error('runtime and peer render different prompts');
const oursPromptTokens = finalAgent.backend.promptTokens;

const N = 100;
const ROUNDS = 21;
const rows: Record<string, number[]> = {
  'runtime: final-answer run (1 model call, cold history)': [],
  'runtime: tool run, per model call (2 calls + 1 tool)': [],
  'peer: naive template render + encode + regex parse': [],
  'part: full Harmony render of the prompt alone': [],
};
for (let r = 0; r < ROUNDS; r++) {
  rows['runtime: final-answer run (1 model call, cold history)']!.push(
    await timeAsync(N, () => run(finalAgent.agent, input, { conversationId: 'bench' })),
  );
  rows['runtime: tool run, per model call (2 calls + 1 tool)']!.push(
    (await timeAsync(N, () => run(toolAgent.agent, input, { conversationId: 'bench' }))) / 2,
  );
  rows['peer: naive template render + encode + regex parse']!.push(
    timeSync(N, () => naiveTurn(peerHistory, input, FINAL)),
  );
  rows['part: full Harmony render of the prompt alone']!.push(
    timeSync(N, () => renderConversationForCompletion({ messages: view }, 'assistant')),
  );
}
const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `conversation: 20 messages, prompt ${oursPromptTokens} tokens (peer ${naive.prompt.length}), answer ${FINAL.length} tokens`,
);
console.log(`${N} runs x ${ROUNDS} interleaved rounds; best (median) per model call`);
for (const [k, xs] of Object.entries(rows)) {
  console.log(
    `${k.padEnd(56)} ${(best(xs) * 1000).toFixed(1).padStart(7)} µs (${(median(xs) * 1000).toFixed(1)} µs)`,
  );
}
const ours = best(rows['runtime: final-answer run (1 model call, cold history)']!);
const oursTool = best(rows['runtime: tool run, per model call (2 calls + 1 tool)']!);
const peer = best(rows['peer: naive template render + encode + regex parse']!);
console.log(
  `ratio runtime / naive peer: ${(ours / peer).toFixed(2)}x cold single call, ${(oursTool / peer).toFixed(2)}x per call in a tool run`,
);
console.log(
  `goal < 1 ms per model call on a 20-message conversation: ${Math.max(ours, oursTool) < 1 ? 'met' : 'NOT met'}`,
);
