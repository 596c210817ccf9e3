import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURE_SPEC, DENSE_FEATURES, featurize, fnv1a, mulberry32 } from '../src/index.js';

const dense = (text: string, name: (typeof DENSE_FEATURES)[number]) =>
  featurize(text).dense[DENSE_FEATURES.indexOf(name)] as number;

describe('hashing', () => {
  it('computes 32-bit FNV-1a', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('gives the same PRNG sequence for the same seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
  });
});

describe('featurize', () => {
  it('is deterministic and L2-normalised over the hashed n-grams', () => {
    const a = featurize('How do I reset my password?');
    const b = featurize('How do I reset my password?');
    expect([...a.indices]).toEqual([...b.indices]);
    expect([...a.values]).toEqual([...b.values]);
    const norm = Math.sqrt([...a.values].reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 5);
    for (const i of a.indices) expect(i).toBeLessThan(DEFAULT_FEATURE_SPEC.buckets);
    expect(new Set(a.indices).size).toBe(a.indices.length);
  });

  it('sees word order through bigrams and case-folds', () => {
    const a = featurize('dog bites man');
    const b = featurize('man bites dog');
    expect([...a.indices].sort()).not.toEqual([...b.indices].sort());
    expect([...featurize('Hello There').indices]).toEqual([...featurize('hello there').indices]);
  });

  it('leaves no state behind between calls', () => {
    const first = featurize('store hours on sunday');
    featurize('something completely different with many other words in it');
    expect([...featurize('store hours on sunday').values]).toEqual([...first.values]);
  });

  it('bounds the work on very long inputs', () => {
    const long = 'word '.repeat(100_000);
    const f = featurize(long);
    // Clipped to head + tail: the word count signal reflects ~2,500 characters, not 500,000.
    expect(f.dense[DENSE_FEATURES.indexOf('log_words')]).toBeLessThan(Math.log1p(1000) / 6);
  });

  it('extracts the cheap signals', () => {
    expect(dense('hi there', 'greeting')).toBe(1);
    expect(dense('My router keeps crashing, I tried a reset and it still does not work', 'greeting')).toBe(0);
    expect(dense('Compute $\\frac{1}{2} + x^2 = 3$', 'math')).toBeGreaterThan(0.3);
    expect(dense('hello', 'math')).toBe(0);
    expect(dense('```js\nfunction f() { return 1; }\n```', 'code')).toBe(1);
    expect(dense('Think step by step about this', 'think_hard')).toBe(1);
    expect(dense('Quick question: yes or no?', 'quick')).toBe(1);
    expect(dense('Question\nA. one\nB. two\nC. three', 'options')).toBe(1);
    expect(
      dense('I tried restarting it but it still won’t connect and keeps failing', 'troubleshooting'),
    ).toBeGreaterThan(0);
    expect(dense('What does the warranty policy say about refunds?', 'policy')).toBeGreaterThan(0);
    expect(dense('abc', 'bias')).toBe(1);
    expect(dense('a much longer prompt than the other one', 'log_chars')).toBeGreaterThan(
      dense('short', 'log_chars'),
    );
  });
});

describe('word-problem signals', () => {
  const easy = 'Tom has 3 apples. How many apples does he have?';
  const hard =
    'A store sells pens at $1.25 each and notebooks at 3 for $7. Maria buys 2 dozen pens and 15 notebooks, then ' +
    'returns a third of the notebooks. If she pays with a $50 bill and gets a 10% discount, how much change does she get?';

  it('count quantities, operations, units and money', () => {
    for (const name of [
      'wp_numbers',
      'wp_distinct_numbers',
      'wp_operations',
      'wp_money',
      'wp_conditions',
    ] as const)
      expect(dense(hard, name), name).toBeGreaterThan(dense(easy, name));
    expect(dense(hard, 'wp_percent')).toBeGreaterThan(0);
    expect(dense(hard, 'wp_fraction')).toBeGreaterThan(0);
    expect(dense(easy, 'wp_percent')).toBe(0);
    expect(dense(easy, 'wp_how_many')).toBe(1);
  });

  it('weights trained before a signal existed still featurize with their own dense list', () => {
    const spec = { ...DEFAULT_FEATURE_SPEC, dense: DENSE_FEATURES.slice(0, 17) };
    const f = featurize(hard, spec);
    expect(f.dense).toHaveLength(17);
    expect([...f.dense]).toEqual([...featurize(hard).dense].slice(0, 17));
    expect(() => featurize(hard, { ...spec, dense: ['bias', 'nope'] })).toThrow(
      /unknown dense feature 'nope'/,
    );
  });
});
