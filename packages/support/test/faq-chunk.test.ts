import { describe, expect, it } from 'vitest';
import { chunkDocument, chunkText, formatOf, htmlToMarkdown } from '../src/index.js';

describe('chunkDocument', () => {
  it('keeps the heading path with each section and ignores # inside code fences', () => {
    const md = [
      '# Install',
      'Intro text.',
      '## From npm',
      'Run it.',
      '```sh',
      '# not a heading',
      '```',
      '### Windows',
      'Use WSL.',
      '## From source',
      'Clone.',
    ].join('\n');
    const chunks = chunkDocument(md, 'markdown', 'install.md');
    expect(chunks.map((c) => c.heading)).toEqual([
      'Install',
      'Install › From npm',
      'Install › From npm › Windows',
      'Install › From source',
    ]);
    expect(chunks[1]!.body).toContain('# not a heading');
    expect(chunks.every((c) => c.title === 'Install')).toBe(true);
    expect(chunkText(chunks[2]!)).toBe('Install › From npm › Windows\nUse WSL.');
    expect(chunks.map((c) => c.ord)).toEqual([0, 1, 2, 3]);
  });

  it('splits long sections at paragraph boundaries and never exceeds the limit', () => {
    const para = 'word '.repeat(50).trim();
    const md = `# T\n\n${Array.from({ length: 10 }, () => para).join('\n\n')}\n\n${'x'.repeat(900)}`;
    const chunks = chunkDocument(md, 'markdown', 't.md', { maxChars: 300 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.body.length).toBeLessThanOrEqual(300);
    expect(chunks.map((c) => c.body).join('')).toContain('x'.repeat(300));
  });

  it('reads HTML headings and drops scripts, tags and entities', () => {
    const html =
      '<html><head><script>alert(1)</script></head><body><h1>Billing</h1><p>Pay &amp; go.</p>' +
      '<h2 id="r">Refunds</h2><ul><li>Within 30 days</li></ul></body></html>';
    expect(htmlToMarkdown(html)).not.toContain('alert');
    const chunks = chunkDocument(html, 'html', 'billing.html');
    expect(chunks.map((c) => [c.heading, c.body])).toEqual([
      ['Billing', 'Pay & go.'],
      ['Billing › Refunds', '- Within 30 days'],
    ]);
  });

  it('titles plain text by its file name', () => {
    const chunks = chunkDocument('Opening hours are 9 to 5.', 'text', 'opening-hours.txt');
    expect(chunks).toEqual([
      { ord: 0, title: 'opening hours', heading: '', body: 'Opening hours are 9 to 5.' },
    ]);
    expect(formatOf('a.MD')).toBe('markdown');
    expect(formatOf('a.htm')).toBe('html');
    expect(formatOf('a.pdf')).toBeUndefined();
  });
});
