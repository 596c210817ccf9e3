import {
  type Agent,
  type ConversationStore,
  type RunEvent,
  type RunOptions,
  type RunResult,
  runStream,
} from '@harmonia/core';
import { DEFAULT_FEATURE_SPEC, type Features, featurize } from './features.js';
import { mulberry32, shuffleInPlace } from './hash.js';

/** Who is talking, as the host knows it (from its own authentication, never from the chat text). */
export interface TriageCaller {
  id?: string;
  roles?: readonly string[];
}

/** One specialist agent the triage can hand a conversation to. */
export interface Specialist {
  /** Short id, e.g. `os-config`. */
  name: string;
  /** What it handles, in a sentence or two: the classifier trains on it. */
  description: string;
  /** Typical user messages it should get. */
  examples?: readonly string[];
  agent: Agent;
  /**
   * How powerful its tools are (default 0). A conversation moves to a more privileged specialist only on the
   * classifier's own evidence (`escalateConfidence`), never because the user asks for it or an LLM router says so.
   */
  privilege?: number;
  /** Host-side access check; a specialist it refuses is never chosen for that caller. */
  allow?: (caller: TriageCaller) => boolean;
}

/** A low-effort model call that names a specialist: `(instructions, conversation) => reply text`. */
export type TriageModelCall = (instructions: string, conversation: string) => Promise<string>;

export interface TriageOptions {
  agents: readonly Specialist[];
  /** Optional model call consulted on every decision; its pick is held to the same rules as the classifier's. */
  router?: TriageModelCall;
  /** Probability the classifier needs to move a conversation to another specialist (default 0.5). */
  switchConfidence?: number;
  /** Probability it needs to move a conversation to a more privileged specialist (default 0.7). */
  escalateConfidence?: number;
  /** Where a conversation starts when nothing is clear (default: the least privileged specialist). */
  defaultAgent?: string;
}

export interface TriageDecision {
  agent: string;
  /** The specialist that had the conversation before, when this decision is a handoff. */
  from?: string;
  reason: string;
  /** Classifier probabilities per specialist (on the message with handoff requests and agent names removed). */
  scores: Record<string, number>;
}

export type TriageEvent<T = unknown> =
  | RunEvent<T>
  | { type: 'handoff'; from: string | undefined; to: string; reason: string; scores: Record<string, number> };

export interface TriageRunOptions extends RunOptions {
  caller?: TriageCaller;
}

export interface TriageResult<T = unknown> {
  agent: string;
  decision: TriageDecision;
  result: RunResult<T>;
}

/** Bad triage configuration; the message says what to change. */
export class TriageConfigError extends Error {
  override name = 'TriageConfigError';
}

// Requests to be moved, identity claims and instruction overrides carry no evidence about the topic.
const META: readonly RegExp[] = [
  /\b(transfer|route|switch|connect|escalate|forward|redirect|send|move|pass|put|hand)\b[^.?!\n]*\b(agent|specialist|team|department|engineer|expert|admin|tier|level|desk|bot|assistant|mode|someone|person)\b/g,
  /\b(i am|i'm|im|as an?|acting as|i work (as|for)|speaking as)\s+(an?\s+)?(admin|administrator|staff|engineer|developer|employee|operator|root|superuser|sre|owner|manager|support agent)\b[^.?!\n]*/g,
  /\b(ignore|disregard|forget|override)\b[^.?!\n]*\b(instructions?|rules?|prompt|triage|routing|previous|above)\b[^.?!\n]*/g,
  /\b(you are now|pretend (to be|you are)|act as|switch to|enable)\b[^.?!\n]*/g,
];

/** The message with handoff requests, identity claims and specialist names removed (what triage classifies). */
export function triageText(text: string, names: readonly string[]): string {
  let t = text.toLowerCase();
  for (const re of META) t = t.replace(re, ' ');
  for (const n of names) {
    const variants = [n, n.replace(/[-_]/g, ' ')].map((v) => v.toLowerCase());
    for (const v of variants) t = t.split(v).join(' ');
  }
  return t.replace(/\s+/g, ' ').trim();
}

const INSTRUCTIONS = (agents: readonly Specialist[]) =>
  `Pick the specialist for this support conversation. Answer with the specialist's name only.\n${agents
    .map((a) => `- ${a.name}: ${a.description}`)
    .join('\n')}`;

/** Messages about no topic at all: a class of their own, so small talk never moves a conversation. */
const SMALL_TALK = [
  'thanks',
  'thank you, that worked',
  'ok',
  'okay great',
  'hello',
  'hi there',
  'good morning',
  'can you help me',
  'I have a question',
  'are you a bot',
  'all good now, thanks',
  'that fixed it',
  'bye',
  'one more thing',
  'sorry, what do you mean',
  'yes',
  'no',
  'please hurry',
];
export const NO_TOPIC = '(none)';

/**
 * Multinomial logistic regression over the router's hashed features, trained at construction (seeded), with one
 * extra class for small talk.
 */
class SpecialistClassifier {
  private readonly w: Float64Array[];
  private readonly b: Float64Array;

  constructor(
    private readonly agents: readonly Specialist[],
    epochs = 40,
  ) {
    const spec = DEFAULT_FEATURE_SPEC;
    const K = agents.length + 1;
    this.w = Array.from({ length: K }, () => new Float64Array(spec.buckets));
    this.b = new Float64Array(K);
    const names = agents.map((a) => a.name);
    const rows: { f: Features; y: number }[] = [];
    agents.forEach((a, y) => {
      const texts = [a.description, ...a.description.split(/(?<=[.;])\s+/), ...(a.examples ?? [])].filter(
        (t) => t.trim() !== '',
      );
      for (const t of texts) rows.push({ f: featurize(triageText(t, names)), y });
    });
    for (const t of SMALL_TALK) rows.push({ f: featurize(t), y: K - 1 });
    const rand = mulberry32(1);
    const order = rows.map((_, i) => i);
    const z = new Float64Array(K);
    for (let epoch = 0; epoch < epochs; epoch++) {
      const lr = 2 / (1 + epoch * 0.1);
      shuffleInPlace(order, rand);
      for (const i of order) {
        const r = rows[i] as { f: Features; y: number };
        this.scores(r.f, z);
        for (let k = 0; k < K; k++) {
          const g = (z[k] as number) - (k === r.y ? 1 : 0);
          const w = this.w[k] as Float64Array;
          for (let j = 0; j < r.f.indices.length; j++) {
            const idx = r.f.indices[j] as number;
            w[idx] = (w[idx] as number) - lr * (g * (r.f.values[j] as number) + 1e-4 * (w[idx] as number));
          }
          this.b[k] = (this.b[k] as number) - 0.1 * lr * g;
        }
      }
    }
  }

  /** Softmax probabilities into `out`. */
  private scores(f: Features, out: Float64Array): void {
    const K = this.agents.length + 1;
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) {
      const w = this.w[k] as Float64Array;
      let s = this.b[k] as number;
      for (let j = 0; j < f.indices.length; j++)
        s += (w[f.indices[j] as number] as number) * (f.values[j] as number);
      out[k] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (let k = 0; k < K; k++) {
      out[k] = Math.exp((out[k] as number) - max);
      sum += out[k] as number;
    }
    for (let k = 0; k < K; k++) out[k] = (out[k] as number) / sum;
  }

  classify(text: string): Record<string, number> {
    const z = new Float64Array(this.agents.length + 1);
    this.scores(featurize(text), z);
    const out = Object.fromEntries(this.agents.map((a, k) => [a.name, Number((z[k] as number).toFixed(4))]));
    out[NO_TOPIC] = Number((z[this.agents.length] as number).toFixed(4));
    return out;
  }
}

export interface Triage {
  readonly agents: readonly Specialist[];
  /**
   * Classifier probabilities per specialist for one message (handoff requests and names removed first), plus
   * `(none)` for small talk.
   */
  classify(text: string): Record<string, number>;
  /** Decides (and records) which specialist answers this message of the conversation. */
  decide(conversationId: string, input: string, caller?: TriageCaller): Promise<TriageDecision>;
  /** Runs the chosen specialist on the message with the conversation so far; yields a `handoff` event first when the specialist changes. */
  runStream<T = unknown>(
    input: string,
    options: TriageRunOptions & { conversationId: string },
  ): AsyncGenerator<TriageEvent<T>, TriageResult<T>>;
  run<T = unknown>(
    input: string,
    options: TriageRunOptions & { conversationId: string },
  ): Promise<TriageResult<T>>;
  /** Returns the conversation to the specialist it came from (or the default), e.g. when a specialist is done. */
  handBack(conversationId: string, reason: string): Promise<TriageDecision>;
  /** The specialist that holds the conversation now, if any. */
  current(conversationId: string): Promise<string | undefined>;
}

/** The store key of a conversation's handoff record. */
export const triageRecordId = (conversationId: string) => `triage:${conversationId}`;

interface HandoffRecord {
  from: string | undefined;
  to: string;
  reason: string;
  scores: Record<string, number>;
}

/**
 * Triage between specialist agents: an embedded classifier (trained from each specialist's description and
 * examples) or, when given, a low-effort model call picks the specialist; the conversation stays with it until
 * another one is clearly better, and a handoff carries the whole conversation (the specialists share one store)
 * and is recorded as a `handoff` event and in the store (`triage:<conversationId>`). A user cannot talk their way
 * into a more privileged specialist: handoff requests, identity claims and agent names are removed before
 * classifying, the host's `allow` check gates each specialist, and moving up in privilege needs the classifier's
 * own confidence, whatever the model call says.
 */
export function createTriage(options: TriageOptions): Triage {
  const agents = options.agents;
  if (!agents?.length) throw new TriageConfigError('createTriage: give at least one specialist in `agents`');
  const names = agents.map((a) => a.name);
  if (new Set(names).size !== names.length)
    throw new TriageConfigError('createTriage: specialist names must be unique');
  const store: ConversationStore = (agents[0] as Specialist).agent.store;
  for (const a of agents)
    if (a.agent.store !== store)
      throw new TriageConfigError(
        `createTriage: '${a.name}' has its own store; give every specialist the same ConversationStore so a handoff carries the conversation`,
      );
  const byName = new Map(agents.map((a) => [a.name, a]));
  const priv = (n: string) => byName.get(n)?.privilege ?? 0;
  const lowest = Math.min(...agents.map((a) => a.privilege ?? 0));
  if (options.defaultAgent !== undefined && !byName.has(options.defaultAgent))
    throw new TriageConfigError(
      `createTriage: defaultAgent '${options.defaultAgent}' is not one of ${names.join(', ')}`,
    );
  const switchAt = options.switchConfidence ?? 0.5;
  const escalateAt = options.escalateConfidence ?? 0.7;
  const classifier = new SpecialistClassifier(agents);
  const holders = new Map<string, string[]>();

  const classify = (text: string) => classifier.classify(triageText(text, names));

  async function history(conversationId: string): Promise<string[]> {
    let h = holders.get(conversationId);
    if (!h) {
      const rec = await store.load(triageRecordId(conversationId));
      h = [];
      for (const m of rec?.messages ?? []) {
        const text = m.content.map((c) => ('text' in c ? c.text : '')).join('');
        try {
          const r = JSON.parse(text) as HandoffRecord;
          if (byName.has(r.to)) h.push(r.to);
        } catch {
          // Not a handoff record: ignore.
        }
      }
      holders.set(conversationId, h);
    }
    return h;
  }

  async function record(conversationId: string, d: TriageDecision): Promise<void> {
    const h = await history(conversationId);
    h.push(d.agent);
    const rec: HandoffRecord = { from: d.from, to: d.agent, reason: d.reason, scores: d.scores };
    // A system message in a conversation of its own: the specialists never see it in their prompts.
    await store.append(triageRecordId(conversationId), [
      { role: 'system', content: [{ type: 'text', text: JSON.stringify(rec) }] },
    ]);
  }

  function allowed(a: Specialist, caller: TriageCaller): boolean {
    return a.allow ? a.allow(caller) : true;
  }

  async function modelPick(input: string): Promise<string | undefined> {
    if (!options.router) return undefined;
    try {
      const reply = (await options.router(INSTRUCTIONS(agents), input)).toLowerCase();
      // The longest name that appears wins (so `rules` does not shadow `rules-admin`).
      return [...names].sort((a, b) => b.length - a.length).find((n) => reply.includes(n.toLowerCase()));
    } catch {
      return undefined;
    }
  }

  async function decide(
    conversationId: string,
    input: string,
    caller: TriageCaller = {},
  ): Promise<TriageDecision> {
    const h = await history(conversationId);
    const current = h[h.length - 1];
    const scores = classify(input);
    const ranked = [...names].sort((a, b) => (scores[b] as number) - (scores[a] as number));
    const ok = (n: string) => allowed(byName.get(n) as Specialist, caller);
    // A specialist is eligible if the host allows it and, if it is more privileged than where the conversation
    // is (or than the least privileged specialist, for a new conversation), the classifier is confident.
    const base = current !== undefined ? priv(current) : lowest;
    const eligible = (n: string) => ok(n) && (priv(n) <= base || (scores[n] as number) >= escalateAt);
    // Small talk (or nothing left once handoff requests are removed) keeps the conversation where it is.
    if (
      current !== undefined &&
      ok(current) &&
      ranked.length &&
      (scores[NO_TOPIC] as number) > (scores[ranked[0] as string] as number)
    )
      return { agent: current, reason: `stays with ${current} (no topic in the message)`, scores };
    const picked = await modelPick(input);
    let choice: string | undefined;
    let why = '';
    if (picked !== undefined && eligible(picked)) {
      choice = picked;
      why = `model call picked ${picked}`;
    } else {
      choice = ranked.find(eligible);
      why = `classifier p(${choice})=${(scores[choice ?? ''] ?? 0).toFixed(2)}`;
      if (picked !== undefined)
        why += `; model call picked ${picked}, not allowed (${ok(picked) ? `p=${(scores[picked] as number).toFixed(2)} below ${escalateAt} for a more privileged specialist` : 'the host does not allow it for this caller'})`;
    }
    if (current !== undefined && ok(current)) {
      const switching =
        choice !== undefined &&
        choice !== current &&
        (picked === choice ||
          ((scores[choice] as number) >= switchAt &&
            (scores[choice] as number) - (scores[current] as number) >= 0.15));
      if (!switching) return { agent: current, reason: `stays with ${current} (${why})`, scores };
    }
    if (choice === undefined) {
      const fallback =
        options.defaultAgent && ok(options.defaultAgent) ? options.defaultAgent : names.find(ok);
      if (!fallback) throw new TriageConfigError('no specialist is allowed for this caller');
      choice = fallback;
      why = `no eligible specialist, default ${fallback}`;
    } else if (
      current === undefined &&
      options.defaultAgent &&
      (scores[choice] as number) < switchAt &&
      picked !== choice
    ) {
      choice = ok(options.defaultAgent) ? options.defaultAgent : choice;
      why += `; below ${switchAt}, default ${choice}`;
    }
    const d: TriageDecision = {
      agent: choice,
      ...(current !== undefined ? { from: current } : {}),
      reason:
        current === undefined ? `start with ${choice} (${why})` : `handoff ${current} -> ${choice} (${why})`,
      scores,
    };
    await record(conversationId, d);
    return d;
  }

  async function handBack(conversationId: string, reason: string): Promise<TriageDecision> {
    const h = await history(conversationId);
    const current = h[h.length - 1];
    const previous = [...h].reverse().find((n) => n !== current);
    const to = previous ?? options.defaultAgent ?? names.reduce((a, b) => (priv(b) < priv(a) ? b : a));
    const d: TriageDecision = {
      agent: to,
      ...(current !== undefined ? { from: current } : {}),
      reason: `handed back from ${current ?? 'nobody'} to ${to}: ${reason}`,
      scores: {},
    };
    await record(conversationId, d);
    return d;
  }

  async function* triageStream<T>(
    input: string,
    opts: TriageRunOptions & { conversationId: string },
  ): AsyncGenerator<TriageEvent<T>, TriageResult<T>> {
    const { caller, ...runOptions } = opts;
    const before = (await history(opts.conversationId)).at(-1);
    const decision = await decide(opts.conversationId, input, caller);
    if (decision.agent !== before)
      yield {
        type: 'handoff',
        from: before,
        to: decision.agent,
        reason: decision.reason,
        scores: decision.scores,
      };
    const agent = (byName.get(decision.agent) as Specialist).agent as Agent<T>;
    const result = yield* runStream(agent, input, runOptions);
    return { agent: decision.agent, decision, result };
  }

  return {
    agents,
    classify,
    decide,
    handBack,
    async current(conversationId) {
      return (await history(conversationId)).at(-1);
    },
    runStream: triageStream,
    async run<T>(input: string, opts: TriageRunOptions & { conversationId: string }) {
      const it = triageStream<T>(input, opts);
      for (;;) {
        const step = await it.next();
        if (step.done) return step.value;
      }
    },
  };
}
