import { describe, expect, it } from 'vitest';
import { splitMessage } from '../src/index.js';

describe('splitMessage (Discord 2000-character limit)', () => {
  it('keeps short answers whole and splits long ones on sentence boundaries under the limit', () => {
    expect(splitMessage('Short answer.', 2000)).toEqual(['Short answer.']);
    const sentences = Array.from({ length: 80 }, (_, i) => `Sentence number ${i} explains one more step.`);
    const text = sentences.join(' ');
    const parts = splitMessage(text, 2000);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(2000);
      expect(p.endsWith('.')).toBe(true);
    }
    // Nothing lost, nothing duplicated.
    expect(parts.join(' ')).toBe(text);
  });

  it('prefers paragraph breaks, and closes and reopens a code block it has to cut', () => {
    const para = `${'word '.repeat(180).trim()}.`;
    const text = `${para}\n\n${para}\n\n${para}`;
    const parts = splitMessage(text, 2000);
    expect(parts[0]).toBe(`${para}\n\n${para}`);
    expect(parts[1]).toBe(para);

    const code = Array.from({ length: 120 }, (_, i) => `const value${i} = compute(${i});`).join('\n');
    const answer = `Run this:\n\n\`\`\`ts\n${code}\n\`\`\`\n\nThat is all.`;
    const chunks = splitMessage(answer, 2000);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(2000);
      // Every message renders on its own: fences balanced.
      expect((c.match(/^```/gm) ?? []).length % 2).toBe(0);
    }
    expect(chunks[1]!.startsWith('```ts\n')).toBe(true);
    // The code lines survive in order.
    const lines = chunks
      .join('\n')
      .split('\n')
      .filter((l) => l.startsWith('const value'));
    expect(lines).toHaveLength(120);
    expect(lines[119]).toBe('const value119 = compute(119);');
  });

  it('is prefix-stable while an answer streams in, and hard-cuts text without any boundary', () => {
    const text = Array.from({ length: 200 }, (_, i) => `Step ${i} is done.`).join(' ');
    const full = splitMessage(text, 500);
    for (let n = 600; n < text.length; n += 137) {
      const partial = splitMessage(text.slice(0, n), 500);
      for (let i = 0; i < partial.length - 1; i++) expect(partial[i]).toBe(full[i]);
    }
    const blob = 'x'.repeat(4500);
    const cut = splitMessage(blob, 2000);
    expect(cut.map((c) => c.length)).toEqual([1996, 1996, 508]);
    expect(() => splitMessage('x', 10)).toThrow(RangeError);
  });
});
