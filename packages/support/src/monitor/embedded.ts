import { readFileSync } from 'node:fs';
import type { MonitorContext, MonitorVerdict } from '@harmonia/core';
import { bundledMonitorModel } from '../paths.js';
import { Domain, type DomainSources, MonitorModel, type MonitorModelJSON } from './model.js';
import { countWords, plain, sentences, words } from './text.js';
import type { TopicMonitor } from './types.js';

export interface EmbeddedMonitorOptions {
  /** What the bot is for: instructions, doc sections, tool descriptions. */
  domain: DomainSources;
  /** A trained model (default: the bundled one); `harmonia monitor train` makes one for your docs. */
  model?: MonitorModel | string;
  /** Overrides the model's calibrated threshold (probability that a sentence is off task). */
  threshold?: number;
}

let bundled: MonitorModel | undefined;

/** At most this many content words outside the domain: a sentence is judged with its context. */
const CONTEXT_MAX_FOREIGN = 2;

/** What `words` leaves of "you're", "we'll", "I've", "didn't". */
const CONTRACTION: ReadonlySet<string> = new Set(['re', 'll', 've', 'nt', 'd', 'm']);

/** The bar for a text of fewer than four words. */
const SHORT_THRESHOLD = 0.75;

/** Reads a model file written by `harmonia monitor train` (or the bundled one). */
export function loadMonitorModel(file = bundledMonitorModel): MonitorModel {
  if (file === bundledMonitorModel && bundled) return bundled;
  const model = MonitorModel.fromJSON(JSON.parse(readFileSync(file, 'utf8')) as MonitorModelJSON);
  if (file === bundledMonitorModel) bundled = model;
  return model;
}

/**
 * The default on-task monitor: no second model. Each sentence of the reasoning and of the answer is scored
 * against the bot's domain and known attack shapes by a small trained classifier over word vectors distilled
 * from USE-lite; a sentence at or above the threshold stops the turn (reasoning) or withholds the answer.
 */
export class EmbeddedMonitor implements TopicMonitor {
  readonly name = 'on-task';
  readonly model: MonitorModel;
  readonly domain: Domain;
  readonly threshold: number;
  private readonly cache = new Map<string, number>();

  constructor(options: EmbeddedMonitorOptions) {
    this.model =
      options.model instanceof MonitorModel
        ? options.model
        : loadMonitorModel(options.model ?? bundledMonitorModel);
    this.domain = new Domain(options.domain, this.model.wv);
    this.threshold = options.threshold ?? this.model.threshold;
  }

  /** Probability that one sentence is off task or an attack (cached). */
  score(sentence: string): number {
    let p = this.cache.get(sentence);
    if (p === undefined) {
      p = this.model.score(sentence, this.domain);
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(sentence, p);
    }
    return p;
  }

  /**
   * The first sentence at or above the threshold, if any. `minWords` skips fragments (reasoning notes such as
   * "found" or "ok" say nothing about the topic; answer sentences are all judged).
   */
  judge(text: string, minWords = 0, context = ''): MonitorVerdict {
    // Fragments ("Yes.", "Pairing failure section.") say little alone: they are judged with what follows.
    const parts = sentences(text);
    let pending = '';
    let pendingWords = 0;
    let prev = context.trim();
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const s = pending ? `${pending} ${part}` : part;
      const n = pendingWords + countWords(part);
      if (n < 4 && i < parts.length - 1) {
        pending = s;
        pendingWords = n;
        continue;
      }
      pending = '';
      pendingWords = 0;
      if (minWords && n < minWords) continue;
      let p = this.score(s);
      const before = prev;
      prev = s;
      // A short text with nothing after it (yet) needs a clearer signal: "Yes:" before the answer streams on.
      if (p < (n < 4 ? Math.max(this.threshold, SHORT_THRESHOLD) : this.threshold)) continue;
      // A sentence with little content of its own beyond the docs' words (an opener, an apology, a step that
      // names one setting) is read in its context: what came just before it, or the user's question. Text with
      // its own off-task words is judged alone, so on-task text around it cannot dilute it.
      if (before && this.foreignWords(s) <= CONTEXT_MAX_FOREIGN) {
        p = Math.min(p, this.score(`${before} ${s}`));
        if (p < this.threshold) continue;
      }
      return {
        flagged: true,
        reason: `off task (p=${p.toFixed(2)}): "${s.length > 80 ? `${s.slice(0, 80)}…` : s}"`,
      };
    }
    return { flagged: false };
  }

  /** Content words of a sentence that the domain never uses (numbers and contraction tails are not content). */
  private foreignWords(sentence: string): number {
    let n = 0;
    for (const w of words(plain(sentence)))
      if (!this.domain.vocab.has(w) && !/^\d+$/.test(w) && !CONTRACTION.has(w)) n++;
    return n;
  }

  async checkReasoning(reasoning: string, ctx?: MonitorContext): Promise<MonitorVerdict> {
    return this.judge(reasoning, 2, ctx?.input);
  }

  async checkAnswer(answer: string, ctx?: MonitorContext): Promise<MonitorVerdict> {
    return this.judge(answer, 0, ctx?.input);
  }
}
