/**
 * Template: retrieval over your docs for any agent, one level below the support bot. `FaqIndex` keeps the docs in
 * LanceDB (vectors + full text, incremental); `faqNamespace` gives an agent `faq.search` and `faq.get`.
 */
import { Agent, type Backend } from '@harmonia/core';
import { defaultDbPath, defaultEmbedder, type Embedder, FaqIndex, faqNamespace } from '@harmonia/support';

export interface DocsAgentOptions {
  backend: Backend;
  docsDir: string;
  db?: string;
  embedder?: Embedder;
}

/** A plain agent that looks things up in `docsDir` while it reasons and cites entries as `[faq:<id>]`. */
export async function createDocsAgent(options: DocsAgentOptions): Promise<{ agent: Agent; index: FaqIndex }> {
  const index = await FaqIndex.open({
    uri: options.db ?? defaultDbPath(),
    embedder: options.embedder ?? defaultEmbedder(),
  });
  await index.indexFolder(options.docsDir);
  const agent = new Agent({
    name: 'docs',
    instructions: 'Answer from the documentation tools and cite each entry you used as [faq:<id>].',
    tools: [faqNamespace(index)],
    backend: options.backend,
  });
  return { agent, index };
}
