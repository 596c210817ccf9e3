import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Backend, BackendChooser, ModelSize, ToolNamespace } from '@harmonia/core';
import { createRoutedBackend, parseRouteFlag, RouteConfigError, readPriceTable } from '@harmonia/router';
import { faqBackend } from './backend.js';
import { createSupportBot, type SupportBot, type SupportBotOptions } from './bot.js';
import { defaultEmbedder, type Embedder } from './embedders.js';
import { EmbeddedMonitor } from './monitor/embedded.js';
import { readDocSections } from './monitor/train.js';
import type { TopicMonitor } from './monitor/types.js';
import { faqNamespace } from './namespace.js';
import { bundledDocsDir } from './paths.js';
import { supportInstructions, type TopicPolicy } from './policy.js';
import { FaqIndex, type IndexReport } from './store.js';

export interface FaqAgentOptions {
  backend?: Backend | BackendChooser;
  backends?: Record<ModelSize, Backend>;
  /** Folder of Markdown/HTML/text docs; default the bundled Harmonia docs. */
  docsDir?: string;
  /** LanceDB folder or URI (`s3://...`); default `$HARMONIA_DB` or `~/.cache/harmonia/faq`. */
  db?: string;
  storageOptions?: Record<string, string>;
  embedder?: Embedder;
  /** Base URL of the published docs, for citation links (`<base>/<doc without extension>`). */
  docsBaseUrl?: string;
  /**
   * The on-task monitor: `embedded` (default: the trained classifier over these docs, no second model),
   * `keyword` (the keyword rules only), a model file from `harmonia monitor train`, or any `TopicMonitor`.
   */
  monitor?: 'embedded' | 'keyword' | { modelFile: string } | TopicMonitor;
  /** The product the docs are about, for the bot's policy and refusal (default `Harmonia`). */
  product?: string;
  /** More tool namespaces next to `faq` (MCP servers). */
  tools?: readonly ToolNamespace[];
  /** Anything else for `createSupportBot` (policy, reply cap, escalation...). */
  support?: Partial<SupportBotOptions>;
}

export interface FaqAgent {
  bot: SupportBot;
  index: FaqIndex;
  report: IndexReport;
  /** The docs page of an entry id, when `docsBaseUrl` is set. */
  link: (id: string) => string | undefined;
}

export function defaultDbPath(): string {
  return process.env.HARMONIA_DB ?? join(homedir(), '.cache', 'harmonia', 'faq');
}

/** The RAG FAQ support agent: indexes the docs (incrementally), then a support bot with the `faq` namespace. */
export async function createFaqAgent(options: FaqAgentOptions): Promise<FaqAgent> {
  const index = await FaqIndex.open({
    uri: options.db ?? defaultDbPath(),
    embedder: options.embedder ?? defaultEmbedder(),
    ...(options.storageOptions ? { storageOptions: options.storageOptions } : {}),
  });
  const report = await index.indexFolder(options.docsDir ?? bundledDocsDir);
  const policy: TopicPolicy = options.product
    ? { product: options.product, allowed: [`using, configuring and troubleshooting ${options.product}`] }
    : {
        product: 'Harmonia',
        allowed: [
          'installing, configuring and running Harmonia',
          'model backends (Ollama, vLLM, the native engine)',
          'agents, tools, routing, safety, the bots and the FAQ agent',
        ],
      };
  const base = options.docsBaseUrl?.replace(/\/+$/, '');
  const link = (id: string) =>
    base ? `${base}/${id.replace(/#.*$/, '').replace(/\.(md|markdown|html?|txt)$/, '')}` : undefined;
  const docsDir = options.docsDir ?? bundledDocsDir;
  const topicMonitor = await topicMonitorFor(
    options.monitor,
    docsDir,
    options.support?.policy ?? policy,
    index,
  );
  const bot = createSupportBot({
    policy,
    ...(topicMonitor ? { topicMonitor } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.backends ? { backends: options.backends } : {}),
    tools: [faqNamespace(index, { link: (_doc, id) => link(id) }), ...(options.tools ?? [])],
    ...options.support,
  });
  return { bot, index, report, link };
}

async function topicMonitorFor(
  choice: FaqAgentOptions['monitor'],
  docsDir: string,
  policy: TopicPolicy,
  index: FaqIndex,
): Promise<TopicMonitor | undefined> {
  if (choice === 'keyword') return undefined;
  if (choice !== undefined && typeof choice === 'object' && 'checkAnswer' in choice) return choice;
  const sections = await readDocSections(docsDir);
  const faq = faqNamespace(index).config();
  return new EmbeddedMonitor({
    domain: {
      instructions: supportInstructions(policy),
      docs: sections.map((s) => s.text),
      tools: [faq.description ?? '', ...faq.tools.map((t) => t.description ?? '')],
    },
    ...(choice !== undefined && typeof choice === 'object' && 'modelFile' in choice
      ? { model: choice.modelFile }
      : {}),
  });
}

/** A configuration value is unusable (e.g. `HARMONIA_MAX_REPLIES=abc`). */
export class FaqConfigError extends Error {
  override name = 'FaqConfigError';
}

/**
 * The FAQ agent configured from environment variables, as the Discord and Slack templates document them:
 * `HARMONIA_BACKEND` (a backend spec) or `HARMONIA_ROUTE` (routed arms: `20b=SPEC,120b=SPEC` or a JSON config
 * file; `HARMONIA_PRICES` a price table file), `HARMONIA_DOCS`, `HARMONIA_DB`, `DOCS_BASE_URL`,
 * `HARMONIA_MAX_REPLIES` (default 5). `extra` overrides anything (tests pass an embedder).
 */
export async function faqAgentFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  extra: FaqAgentOptions = {},
): Promise<FaqAgent> {
  const raw = env.HARMONIA_MAX_REPLIES;
  const maxReplies = raw === undefined || raw === '' ? 5 : Number(raw);
  if (!Number.isInteger(maxReplies) || maxReplies < 1)
    throw new FaqConfigError(`HARMONIA_MAX_REPLIES must be a positive integer, got '${raw}'`);
  let backend: Backend | BackendChooser;
  if (env.HARMONIA_ROUTE) {
    if (env.HARMONIA_BACKEND) throw new FaqConfigError('set HARMONIA_BACKEND or HARMONIA_ROUTE, not both');
    try {
      backend = await createRoutedBackend(parseRouteFlag(env.HARMONIA_ROUTE), {
        ...(env.HARMONIA_PRICES ? { prices: readPriceTable(env.HARMONIA_PRICES) } : {}),
      });
    } catch (err) {
      if (err instanceof RouteConfigError) throw new FaqConfigError(`HARMONIA_ROUTE: ${err.message}`);
      throw err;
    }
  } else backend = await faqBackend(env.HARMONIA_BACKEND);
  return createFaqAgent({
    backend,
    ...(env.HARMONIA_DOCS ? { docsDir: env.HARMONIA_DOCS } : {}),
    ...(env.HARMONIA_DB ? { db: env.HARMONIA_DB } : {}),
    ...(env.DOCS_BASE_URL ? { docsBaseUrl: env.DOCS_BASE_URL } : {}),
    ...extra,
    support: { maxReplies, ...extra.support },
  });
}
