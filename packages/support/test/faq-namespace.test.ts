import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolCallError } from '@harmonia/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { citedIds, FaqIndex, faqNamespace, HashingEmbedder } from '../src/index.js';
import { tempDir } from './faq-helpers.js';

const ctx = { conversationId: 'c1', signal: new AbortController().signal, channel: 'analysis' };
let index: FaqIndex;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const docs = await tempDir('ns-docs');
  const db = await tempDir('ns-db');
  cleanups.push(docs.cleanup, db.cleanup);
  await writeFile(join(docs.dir, 'refunds.md'), '# Refunds\n\nMoney back within 30 days.\n');
  await writeFile(join(docs.dir, 'hours.md'), '# Opening hours\n\nOpen Monday to Saturday.\n');
  await writeFile(join(docs.dir, 'two-factor.md'), '# Two factor\n\nReset two factor codes from settings.\n');
  index = await FaqIndex.open({ uri: db.dir, embedder: new HashingEmbedder() });
  await index.indexFolder(docs.dir);
});

afterAll(async () => {
  index.close();
  for (const c of cleanups) await c();
});

describe('faq namespace', () => {
  const ns = () =>
    faqNamespace(index, { link: (doc) => `https://docs.example.com/${doc.replace(/\.md$/, '')}` });

  it('is a developer-placed namespace with search and get', () => {
    const n = ns();
    expect(n.name).toBe('faq');
    expect(n.placement).toBe('developer');
    expect(n.config().tools.map((t) => t.name)).toEqual(['search', 'get']);
    expect(n.config().tools[0]!.parameters).toMatchObject({ required: ['query'] });
  });

  it('search returns cited entries with links in meta', async () => {
    const out = await ns().call('search', '{"query":"money back","limit":2}', ctx);
    expect(out.text.split('\n')[0]).toBe('[faq:refunds.md#0] Refunds');
    expect(out.text).toContain('Money back within 30 days.');
    const citations = out.meta?.citations as { id: string; url?: string }[];
    expect(citations).toHaveLength(2);
    expect(citations[0]).toEqual({
      id: 'refunds.md#0',
      doc: 'refunds.md',
      title: 'Refunds',
      heading: 'Refunds',
      url: 'https://docs.example.com/refunds',
    });
  });

  it('get returns one entry in full', async () => {
    const out = await ns().call('get', '{"id":"hours.md#0"}', ctx);
    expect(out.text).toBe('[faq:hours.md#0] Opening hours\nOpen Monday to Saturday.');
  });

  it.each([
    ['search', 'not json', /must be a JSON object/],
    ['search', '[1]', /must be a JSON object/],
    ['search', '{}', /needs \{"query"/],
    ['search', '{"query":"x","limit":0}', /"limit" must be an integer/],
    ['search', '{"query":"x","limit":2.5}', /"limit" must be an integer/],
    ['search', '{"query":"x","mode":"semantic"}', /"mode" must be one of/],
    ['get', '{"id":"nope#3"}', /no entry with id "nope#3"/],
    ['get', '{"id":7}', /needs \{"id"/],
    ['delete', '{}', /no function "delete"/],
  ])('%s %s → ToolCallError the model can act on', async (fn, args, message) => {
    const call = ns().call(fn, args, ctx);
    await expect(call).rejects.toBeInstanceOf(ToolCallError);
    await expect(ns().call(fn, args, ctx)).rejects.toThrow(message);
  });

  it('extracts cited ids from an answer, once each, in order', () => {
    expect(
      citedIds('Refunds take 30 days [faq:refunds.md#0]; see also [faq:hours.md#0] and [faq:refunds.md#0].'),
    ).toEqual(['refunds.md#0', 'hours.md#0']);
  });
});
