import { describe, expect, it } from 'vitest';
import { effortFromOutcomes, parseRows, RouterModel, toExamples, trainRouter } from '../src/index.js';

// Synthetic rows that exercise the label rule; they are not measurements of any model.
describe('effort labels from per-effort outcomes', () => {
  it('graded answers: the lowest effort that was right; none right gives no effort label', () => {
    expect(
      effortFromOutcomes({ prompt: 'q', correct_low: true, correct_medium: true, correct_high: true }),
    ).toBe(0);
    expect(
      effortFromOutcomes({ prompt: 'q', correct_low: false, correct_medium: true, correct_high: true }),
    ).toBe(1);
    expect(
      effortFromOutcomes({ prompt: 'q', correct_low: false, correct_medium: false, correct_high: true }),
    ).toBe(2);
    // Right at low but wrong at medium: low was enough.
    expect(
      effortFromOutcomes({ prompt: 'q', correct_low: true, correct_medium: false, correct_high: false }),
    ).toBe(0);
    expect(
      effortFromOutcomes({ prompt: 'q', correct_low: false, correct_medium: false, correct_high: false }),
    ).toBeUndefined();
    expect(effortFromOutcomes({ prompt: 'q' })).toBeUndefined();
  });

  it('answers only: the effort from which the answers stop differing from high', () => {
    expect(
      effortFromOutcomes({ prompt: 'q', answer_low: '42', answer_medium: '42', answer_high: '42.' }),
    ).toBe(0);
    expect(
      effortFromOutcomes({ prompt: 'q', answer_low: '41', answer_medium: ' 42', answer_high: '42' }),
    ).toBe(1);
    expect(
      effortFromOutcomes({ prompt: 'q', answer_low: '42', answer_medium: '40', answer_high: '42' }),
    ).toBe(2);
    expect(effortFromOutcomes({ prompt: 'q', answer_low: 'Paris', answer_high: 'paris' })).toBe(0);
  });

  it('an explicit effort wins; outcomes win over a difficulty level', () => {
    const rows = parseRows(
      [
        '{"id":"a","prompt":"p1","effort":"high","correct_low":true,"correct_medium":true,"correct_high":true}',
        '{"id":"b","prompt":"p2","level":5,"correct_low":true,"correct_medium":true,"correct_high":true}',
        '{"id":"c","prompt":"p3","level":1,"answer_low":"3","answer_medium":"4","answer_high":"4"}',
        '{"id":"d","prompt":"p4","correct_low":false,"correct_medium":false,"correct_high":false}',
      ].join('\n'),
      'x.jsonl',
    );
    const ex = toExamples([{ name: 'x.jsonl', sha256: '', rows }]);
    expect(ex.map((e) => [e.key, e.effort])).toEqual([
      ['a', 2],
      ['b', 0],
      ['c', 1],
    ]);
  });

  it('rejects malformed per-effort fields with the line named', () => {
    expect(() => parseRows('{"prompt":"ok","correct_low":"yes"}', 'x.jsonl')).toThrow(
      /x\.jsonl:1: "correct_low"/,
    );
    expect(() => parseRows('{"prompt":"ok","answer_medium":7}', 'x.jsonl')).toThrow(/answer_medium/);
    expect(() => parseRows('{"prompt":"ok","answer_low":"7"}', 'x.jsonl')).toThrow(/answer_high/);
  });

  it('router train learns effort from such rows', () => {
    const easy = ['What is 2 + 2?', 'Name the capital of France.', 'Spell "cat".', 'What colour is the sky?'];
    const hard = [
      'Prove that there are infinitely many primes p such that p + 2 is also prime, or explain the obstacle.',
      'Find all integer solutions of x^3 + y^3 = z^3 + 1 with |x|,|y|,|z| < 100 and justify completeness.',
      'A frog jumps on a 7x7 grid with moves (1,2) or (2,1); count the closed tours of length 12 from a corner.',
      'Determine the number of labelled trees on 9 vertices whose maximum degree is exactly 3, with proof.',
    ];
    const lines: string[] = [];
    for (let k = 0; k < 40; k++) {
      const e = easy[k % easy.length] as string;
      const h = hard[k % hard.length] as string;
      lines.push(
        JSON.stringify({
          id: `e${k}`,
          prompt: `${e} (${k})`,
          answer_low: '1',
          answer_medium: '1',
          answer_high: '1',
        }),
      );
      lines.push(
        JSON.stringify({
          id: `h${k}`,
          prompt: `${h} (${k})`,
          correct_low: false,
          correct_medium: false,
          correct_high: true,
        }),
      );
    }
    const data = { name: 'efforts.jsonl', sha256: '', rows: parseRows(lines.join('\n'), 'efforts.jsonl') };
    const { weights, counts } = trainRouter([data], { seed: 1, epochs: 8 });
    expect(counts.effortLabeled).toBeGreaterThan(40);
    const model = new RouterModel(weights);
    expect(model.predict('What is 3 + 5?').effort).toBe('low');
    expect(
      model.predict('Prove that the number of labelled trees on 10 vertices with maximum degree 3 is even.')
        .effort,
    ).toBe('high');
  });
});
