import { fnv1a } from './hash.js';

/** How text becomes features; stored in the weights file so training and routing always agree. */
export interface FeatureSpec {
  hash: 'fnv1a32';
  /** Hashed feature buckets (a power of two). */
  buckets: number;
  /** Weight of each character n-gram relative to a word n-gram. */
  charWeight: number;
  /** Character n-gram length. */
  charN: number;
  /** Character n-grams are taken from this many leading characters. */
  charMaxChars: number;
  /** Long inputs are cut to their first `headChars` plus last `tailChars` characters, bounding latency. */
  headChars: number;
  tailChars: number;
  /** Names of the dense signals, in order (see `DENSE_FEATURES`). */
  dense: readonly string[];
}

/** Cheap hand-made signals appended to the hashed n-grams, each roughly in [0, 1]. */
export const DENSE_FEATURES = [
  'bias',
  'log_chars',
  'log_words',
  'log_digits',
  'math',
  'code',
  'questions',
  'multipart',
  'options',
  'think_hard',
  'quick',
  'reasoning_verb',
  'troubleshooting',
  'greeting',
  'policy',
  'first_person',
  'conversational_length',
  // Word-problem signals: how many quantities and operations a solution has to chain.
  'wp_numbers',
  'wp_distinct_numbers',
  'wp_magnitude',
  'wp_sentences',
  'wp_operations',
  'wp_units',
  'wp_unit_kinds',
  'wp_percent',
  'wp_fraction',
  'wp_money',
  'wp_decimal',
  'wp_conditions',
  'wp_how_many',
] as const;

export const DEFAULT_FEATURE_SPEC: FeatureSpec = {
  hash: 'fnv1a32',
  buckets: 1 << 15,
  charWeight: 0.5,
  charN: 4,
  charMaxChars: 600,
  headChars: 2000,
  tailChars: 500,
  dense: DENSE_FEATURES,
};

/** A sparse, L2-normalised hashed n-gram vector plus the dense signals. */
export interface Features {
  indices: Int32Array;
  values: Float32Array;
  dense: Float64Array;
}

const TOKEN_RE = /[a-z]+|\d+|[^\sa-z\d]/g;
const BIGRAM_SEED = fnv1a('bigram:');
const CHAR_SEED = fnv1a('char:');

const RE = {
  math: /\\frac|\\sqrt|\\cdot|\\times|\\le|\\ge|\\pi|\$|\^|=|\\[a-z]+\{/g,
  code: /```|\bfunction\b|\bdef \w+\(|=>|\breturn\b|;\s*$|\bconsole\.|\bimport \w|\bclass \w+|Traceback|Exception|\bnull\b|\{\s*$/m,
  multipart:
    /(^|\n)\s*(\d+[.)]|\([a-z]\)|[-*] )|\b(then|after that|afterwards|and then|also|additionally)\b/g,
  options: /\n\s*A[.)] [\s\S]*\n\s*B[.)] /,
  thinkHard:
    /\b(think (hard|carefully|deeply)|step[- ]by[- ]step|carefully|thorough(ly)?|in detail|rigorous(ly)?)\b/,
  quick: /\b(quick(ly)?|brief(ly)?|short answer|tl;?dr|one word|just tell me|yes or no)\b/,
  reasoningVerb:
    /\b(prove|derive|calculate|compute|solve|evaluate|simplify|implement|debug|optimi[sz]e|refactor|analy[sz]e|compare|explain why|find (the|all))\b/,
  troubleshooting:
    /\b(tried|still (not|doesn'?t|won'?t|can'?t)|not working|doesn'?t work|won'?t (start|connect|load|turn)|error|crash(es|ed)?|reinstall(ed)?|restart(ed)?|reset|keeps|fails?|failing|broken)\b/g,
  firstPerson: /\b(i|i'm|i've|my|me|we|our|us)\b/g,
  greeting: /^\s*(hi|hello|hey|good (morning|afternoon|evening)|thanks|thank you|cheers|yo)\b/,
  policy:
    /\b(policy|policies|warranty|refund|gdpr|privacy|terms|contract|legal|liab(le|ility)|compliance|regulat(ion|ory)|eligible|entitled)\b/g,
};

const WP = {
  number: /\d+(?:[.,]\d+)*/g,
  sentence: /[.?!](\s|$)/g,
  operation:
    /\b(times|twice|double[ds]?|triple[ds]?|half|thrice|quarter|third|each|per|every|total|altogether|combined|remain(ing|s)?|left|rest|more than|less than|fewer|difference|average|ratio|percent|discount|profit|rate|speed|split|share[ds]?|divide[ds]?|multipl\w*|sum)\b/g,
  unit: /\b(hours?|minutes?|seconds?|days?|weeks?|months?|years?|dozens?|miles?|km|kilometers?|meters?|feet|foot|inch(es)?|pounds?|ounces?|gallons?|liters?|cups?)\b/g,
  unitKind:
    /\b(hour|minute|second|day|week|month|year|dozen|mile|kilometer|meter|feet|foot|inch|pound|ounce|gallon|liter|cup|cent|dollar)/g,
  percent: /%|\bpercent/g,
  fraction: /\d\/\d|\b(half|third|quarter|fifths?)\b/g,
  money: /\$|\b(dollars?|cents?)\b/g,
  decimal: /\d\.\d/g,
  condition: /\b(then|after|before|if|while|until|instead|but|however|whereas|respectively)\b/g,
  howMany: /\bhow (many|much|long|far|old)\b/g,
};

function countMatches(re: RegExp, text: string): number {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(text) !== null) n++;
  return n;
}

/** Caps very long inputs to head + tail so featurisation cost is bounded. */
export function clipText(text: string, spec: FeatureSpec): string {
  if (text.length <= spec.headChars + spec.tailChars) return text;
  return `${text.slice(0, spec.headChars)}\n${text.slice(text.length - spec.tailChars)}`;
}

/** The dense signals of `text` (already clipped), in `DENSE_FEATURES` order. */
export function denseFeatures(text: string, lower: string, wordCount: number): Float64Array {
  let digits = 0;
  let questions = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 63) questions++;
  }
  const out = new Float64Array(DENSE_FEATURES.length);
  out[0] = 1;
  out[1] = Math.log1p(text.length) / 8;
  out[2] = Math.log1p(wordCount) / 6;
  out[3] = Math.log1p(digits) / 4;
  out[4] = Math.log1p(countMatches(RE.math, text)) / 3;
  out[5] = RE.code.test(text) ? 1 : 0;
  out[6] = Math.min(questions, 5) / 5;
  out[7] = Math.log1p(countMatches(RE.multipart, lower)) / 2;
  out[8] = RE.options.test(text) ? 1 : 0;
  out[9] = RE.thinkHard.test(lower) ? 1 : 0;
  out[10] = RE.quick.test(lower) ? 1 : 0;
  out[11] = RE.reasoningVerb.test(lower) ? 1 : 0;
  out[12] = Math.log1p(countMatches(RE.troubleshooting, lower)) / 2;
  out[13] = RE.greeting.test(lower) && text.length < 80 ? 1 : 0;
  out[14] = Math.log1p(countMatches(RE.policy, lower)) / 2;
  const firstPerson = countMatches(RE.firstPerson, lower);
  out[15] = Math.log1p(firstPerson) / 2;
  // Length means something different in a customer's own words than in an exam question.
  out[16] = firstPerson > 0 ? (out[1] as number) : 0;
  // Word problems: many quantities, units and operations mean a longer chain of steps.
  WP.number.lastIndex = 0;
  let numbers = 0;
  let biggest = 0;
  const distinct = new Set<string>();
  for (let m = WP.number.exec(text); m !== null; m = WP.number.exec(text)) {
    numbers++;
    distinct.add(m[0]);
    biggest = Math.max(biggest, Number(m[0].replace(/,/g, '')) || 0);
  }
  WP.unitKind.lastIndex = 0;
  const kinds = new Set<string>();
  for (let m = WP.unitKind.exec(lower); m !== null; m = WP.unitKind.exec(lower)) kinds.add(m[1] as string);
  out[17] = Math.log1p(numbers) / 3;
  out[18] = Math.log1p(distinct.size) / 3;
  out[19] = Math.log10(1 + biggest) / 5;
  out[20] = Math.log1p(countMatches(WP.sentence, text)) / 3;
  out[21] = Math.log1p(countMatches(WP.operation, lower)) / 3;
  out[22] = Math.log1p(countMatches(WP.unit, lower)) / 3;
  out[23] = Math.min(kinds.size, 8) / 4;
  out[24] = Math.log1p(countMatches(WP.percent, lower));
  out[25] = Math.log1p(countMatches(WP.fraction, lower));
  out[26] = Math.log1p(countMatches(WP.money, lower)) / 2;
  out[27] = Math.log1p(countMatches(WP.decimal, text));
  out[28] = Math.log1p(countMatches(WP.condition, lower)) / 3;
  out[29] = Math.min(countMatches(WP.howMany, lower), 3);
  return out;
}

const DENSE_INDEX = new Map<string, number>(DENSE_FEATURES.map((n, i) => [n, i]));

/** The dense signals a weights file names, in its order (weights trained before a signal existed keep working). */
const selections = new WeakMap<readonly string[], Int32Array>();
function selectDense(all: Float64Array, names: readonly string[]): Float64Array {
  let idx = selections.get(names);
  if (!idx) {
    idx = new Int32Array(names.length);
    for (let k = 0; k < names.length; k++) {
      const i = DENSE_INDEX.get(names[k] as string);
      if (i === undefined) throw new RangeError(`unknown dense feature '${names[k]}' in the feature spec`);
      idx[k] = i;
    }
    selections.set(names, idx);
  }
  const out = new Float64Array(idx.length);
  for (let k = 0; k < idx.length; k++) out[k] = all[idx[k] as number] as number;
  return out;
}

// Scratch space reused across calls (routing is synchronous, so one buffer per bucket count is safe).
const scratch = new Map<number, { acc: Float64Array; touched: Int32Array }>();
const MAX_TOUCHED = 16384;

function scratchFor(buckets: number) {
  let s = scratch.get(buckets);
  if (!s) {
    s = { acc: new Float64Array(buckets), touched: new Int32Array(MAX_TOUCHED) };
    scratch.set(buckets, s);
  }
  return s;
}

/**
 * Turns text into features: hashed word unigrams and bigrams, hashed character n-grams (lowercased, whitespace
 * collapsed), L2-normalised together; plus the dense signals. Deterministic for a given spec.
 */
export function featurize(input: string, spec: FeatureSpec = DEFAULT_FEATURE_SPEC): Features {
  const text = clipText(input, spec);
  const lower = text.toLowerCase();
  const mask = spec.buckets - 1;
  const { acc, touched } = scratchFor(spec.buckets);
  let nTouched = 0;
  const add = (h: number, v: number) => {
    const i = h & mask;
    if (acc[i] === 0 && nTouched < MAX_TOUCHED) touched[nTouched++] = i;
    acc[i] = (acc[i] as number) + v;
  };

  TOKEN_RE.lastIndex = 0;
  let prev: string | undefined;
  let words = 0;
  for (let m = TOKEN_RE.exec(lower); m !== null; m = TOKEN_RE.exec(lower)) {
    // Numbers carry little lexical signal; collapse them to their digit count.
    const tok = m[0].charCodeAt(0) >= 48 && m[0].charCodeAt(0) <= 57 ? `#${Math.min(m[0].length, 4)}` : m[0];
    words++;
    add(fnv1a(tok), 1);
    if (prev !== undefined) add(fnv1a(tok, fnv1a(' ', fnv1a(prev, BIGRAM_SEED))), 1);
    prev = tok;
  }

  const chars = lower.slice(0, spec.charMaxChars).replace(/\s+/g, ' ');
  for (let i = 0; i + spec.charN <= chars.length; i++) {
    let h = CHAR_SEED;
    for (let k = 0; k < spec.charN; k++) {
      h ^= chars.charCodeAt(i + k);
      h = Math.imul(h, 0x01000193);
    }
    add(h >>> 0, spec.charWeight);
  }

  let norm = 0;
  for (let t = 0; t < nTouched; t++) {
    const v = acc[touched[t] as number] as number;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  const indices = new Int32Array(nTouched);
  const values = new Float32Array(nTouched);
  for (let t = 0; t < nTouched; t++) {
    const i = touched[t] as number;
    indices[t] = i;
    values[t] = (acc[i] as number) / norm;
    acc[i] = 0;
  }
  const dense = denseFeatures(text, lower, words);
  return { indices, values, dense: spec.dense === DENSE_FEATURES ? dense : selectDense(dense, spec.dense) };
}
