/**
 * The built-in `browser` and `python` tool namespaces, with the exact texts of openai-harmony's
 * `ToolNamespaceConfig::browser()` / `python()` (shared/spec/harmony.md §3.1) — what gpt-oss was trained on.
 */
import type { ToolNamespaceConfig } from './types.js';

const BROWSER_DESCRIPTION_LINES = [
  'Tool for browsing.',
  'The `cursor` appears in brackets before each browsing display: `[{cursor}]`.',
  'Cite information from the tool using the following format:',
  '`\u3010{cursor}\u2020L{line_start}(-L{line_end})?\u3011`, for example: `\u30106\u2020L9-L11\u3011` or `\u30108\u2020L3\u3011`.',
  'Do not quote more than 10 words directly from the tool output.',
];

export interface BrowserNamespaceOptions {
  /**
   * The search source named on the last description line. Omitted: the official `sources=web (default: web)`.
   * Given (e.g. `'web'`): `sources=<value>`, as gpt-oss's `SimpleBrowserTool` writes it.
   */
  sources?: string;
}

/** The official `browser` namespace (search / open / find). */
export function browserNamespace(opts?: BrowserNamespaceOptions): ToolNamespaceConfig {
  const sourcesLine = opts?.sources === undefined ? 'sources=web (default: web)' : `sources=${opts.sources}`;
  return {
    name: 'browser',
    description: [...BROWSER_DESCRIPTION_LINES, sourcesLine].join('\n'),
    tools: [
      {
        name: 'search',
        description: 'Searches for information related to `query` and displays `topn` results.',
        parameters: {
          type: 'object',
          properties: {
            query: { type: 'string' },
            topn: { type: 'number', default: 10 },
            source: { type: 'string' },
          },
          required: ['query'],
        },
      },
      {
        name: 'open',
        description: [
          'Opens the link `id` from the page indicated by `cursor` starting at line number `loc`, showing `num_lines` lines.',
          'Valid link ids are displayed with the formatting: `\u3010{id}\u2020.*\u3011`.',
          'If `cursor` is not provided, the most recent page is implied.',
          'If `id` is a string, it is treated as a fully qualified URL associated with `source`.',
          'If `loc` is not provided, the viewport will be positioned at the beginning of the document or centered on the most relevant passage, if available.',
          'Use this function without `id` to scroll to a new location of an opened page.',
        ].join('\n'),
        parameters: {
          type: 'object',
          properties: {
            id: { type: ['number', 'string'], default: -1 },
            cursor: { type: 'number', default: -1 },
            loc: { type: 'number', default: -1 },
            num_lines: { type: 'number', default: -1 },
            view_source: { type: 'boolean', default: false },
            source: { type: 'string' },
          },
        },
      },
      {
        name: 'find',
        description: 'Finds exact matches of `pattern` in the current page, or the page given by `cursor`.',
        parameters: {
          type: 'object',
          properties: {
            pattern: { type: 'string' },
            cursor: { type: 'number', default: -1 },
          },
          required: ['pattern'],
        },
      },
    ],
  };
}

const PYTHON_FIRST_PARAGRAPH =
  'Use this tool to execute Python code in your chain of thought. The code will not be shown to the user. This tool should be used for internal reasoning, but not for code that is intended to be visible to the user (e.g. when creating plots, tables, or files).';

const PYTHON_TEXTS = {
  /** `ToolNamespaceConfig::python()` of openai-harmony (stateful Jupyter, `/mnt/data`). */
  official: `${PYTHON_FIRST_PARAGRAPH}\n\nWhen you send a message containing Python code to python, it will be executed in a stateful Jupyter notebook environment. python will respond with the output of the execution or time out after 120.0 seconds. The drive at '/mnt/data' can be used to save and persist user files. Internet access for this session is UNKNOWN. Depends on the cluster.`,
  /** gpt-oss `PythonTool` with its default (stateless docker) backend. */
  'stateless-docker':
    'Use this tool to execute STATELESS Python code in your chain of thought. The code will not be shown to the user. This tool should be used for internal reasoning, but not for code that is intended to be visible to the user (e.g. when creating plots, tables, or files).\nWhen you send a message containing python code to python, it will be executed in a stateless docker container, and the stdout of that process will be returned to you. You have to use print statements to access the output.\n\nIMPORTANT: Your python environment is not shared between calls. You will have to pass your entire code each time.',
} as const;

export interface PythonNamespaceOptions {
  /** `'official'` (default): openai-harmony's text. `'stateless-docker'`: gpt-oss's docker-backend text. */
  variant?: keyof typeof PYTHON_TEXTS;
}

/** The `python` namespace: a description only, no typed functions (the model sends raw code to `python`). */
export function pythonNamespace(opts?: PythonNamespaceOptions): ToolNamespaceConfig {
  return { name: 'python', description: PYTHON_TEXTS[opts?.variant ?? 'official'], tools: [] };
}
