import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaqIndex, FaqIndexError, HashingEmbedder } from '../src/index.js';
import { tempDir } from './faq-helpers.js';

let docs: string;
let db: string;
let cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  const a = await tempDir('docs');
  const b = await tempDir('db');
  docs = a.dir;
  db = b.dir;
  cleanups = [a.cleanup, b.cleanup];
  await writeFile(
    join(docs, 'refunds.md'),
    '# Refunds\n\nMoney back within 30 days of purchase.\n\n## Exceptions\n\nGift cards are final.\n',
  );
  await writeFile(
    join(docs, 'password.md'),
    '# Password reset\n\nUse the forgot password link on the login page.\n',
  );
  await mkdir(join(docs, 'sub'));
  await writeFile(
    join(docs, 'sub', 'hours.html'),
    '<h1>Opening hours</h1><p>We are open Monday to Saturday, 9 to 17.</p>',
  );
  await writeFile(join(docs, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0]));
});

afterEach(async () => {
  for (const c of cleanups) await c();
});

describe('FaqIndex', () => {
  it('indexes a folder and finds entries in every search mode', async () => {
    const index = await FaqIndex.open({ uri: db, embedder: new HashingEmbedder() });
    const report = await index.indexFolder(docs);
    expect(report.added.sort()).toEqual(['password.md', 'refunds.md', 'sub/hours.html']);
    expect(report.skipped).toEqual([]); // .png is not a document type: ignored, not an error
    expect(report.chunks).toBe(4);
    for (const mode of ['vector', 'fulltext', 'hybrid'] as const) {
      const hits = await index.search('forgot password login', { mode, limit: 3 });
      expect(hits[0]?.doc, mode).toBe('password.md');
    }
    const gift = await index.search('gift cards', { mode: 'fulltext', limit: 1 });
    expect(gift[0]).toMatchObject({ id: 'refunds.md#1', heading: 'Refunds › Exceptions', title: 'Refunds' });
    expect(await index.get('sub/hours.html#0')).toMatchObject({
      doc: 'sub/hours.html',
      title: 'Opening hours',
    });
    expect(await index.get('nope#0')).toBeUndefined();
    expect((await index.document('refunds.md')).map((e) => e.id)).toEqual(['refunds.md#0', 'refunds.md#1']);
    index.close();
  });

  it('re-indexes only what changed, and removes deleted documents', async () => {
    const embedder = new CountingEmbedder();
    const first = await FaqIndex.open({ uri: db, embedder });
    await first.indexFolder(docs);
    first.close();
    const embeddedBefore = embedder.texts;

    await writeFile(
      join(docs, 'password.md'),
      '# Password reset\n\nAsk an admin to reset two-factor codes.\n',
    );
    await rm(join(docs, 'sub', 'hours.html'));
    await writeFile(join(docs, 'shipping.txt'), 'Parcels ship within two working days.');

    const index = await FaqIndex.open({ uri: db, embedder });
    const report = await index.indexFolder(docs);
    expect(report).toMatchObject({
      added: ['shipping.txt'],
      updated: ['password.md'],
      unchanged: ['refunds.md'],
      removed: ['sub/hours.html'],
    });
    expect(embedder.texts - embeddedBefore).toBe(2); // one chunk each for password.md and shipping.txt
    expect(report.chunks).toBe(4);
    const hits = await index.search('two-factor codes', { mode: 'fulltext', limit: 5 });
    expect(hits.map((h) => h.doc)).toContain('password.md');
    expect(hits.map((h) => h.text).join(' ')).not.toContain('forgot password link');
    expect(await index.search('opening hours Saturday', { mode: 'fulltext' })).toEqual([]);

    const again = await index.indexFolder(docs);
    expect(again.added.length + again.updated.length + again.removed.length).toBe(0);
    index.close();
  });

  it('skips binary, non-UTF-8 and oversized files with a clear reason and indexes the rest', async () => {
    await writeFile(join(docs, 'binary.md'), Buffer.from('abc\0def'));
    await writeFile(join(docs, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    await writeFile(join(docs, 'huge.md'), `# Huge\n${'a'.repeat(5000)}`);
    const index = await FaqIndex.open({ uri: db, embedder: new HashingEmbedder(), maxFileBytes: 4096 });
    const report = await index.indexFolder(docs);
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.file, s.reason]));
    expect(reasons['binary.md']).toMatch(/binary/);
    expect(reasons['latin1.txt']).toMatch(/not valid UTF-8/);
    expect(reasons['huge.md']).toMatch(/over the 4096-byte limit/);
    expect(report.added).toHaveLength(3);
    index.close();
  });

  it('rebuilds the table when the embedding size changes', async () => {
    const small = await FaqIndex.open({ uri: db, embedder: new HashingEmbedder(64) });
    await small.indexFolder(docs);
    small.close();
    const big = await FaqIndex.open({ uri: db, embedder: new HashingEmbedder(128) });
    const report = await big.indexFolder(docs);
    expect(report.added).toHaveLength(3);
    expect((await big.search('refund', { mode: 'vector' })).length).toBeGreaterThan(0);
    big.close();
  });

  it('says what to do when nothing is indexed yet, or the folder is missing', async () => {
    const index = await FaqIndex.open({ uri: db, embedder: new HashingEmbedder() });
    await expect(index.search('x')).rejects.toThrow(FaqIndexError);
    await expect(index.search('x')).rejects.toThrow(/index a folder first/);
    await expect(index.indexFolder(join(docs, 'missing'))).rejects.toThrow(/cannot read docs folder/);
    index.close();
  });
});

class CountingEmbedder extends HashingEmbedder {
  texts = 0;
  override async embed(texts: readonly string[]): Promise<number[][]> {
    this.texts += texts.length;
    return super.embed(texts);
  }
}
