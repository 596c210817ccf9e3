import type { CliIO, Command } from '../command.js';

/**
 * Every top-level command, in the order `harmonia --help` lists them. Each command's module (and the packages it
 * needs: LanceDB, Playwright, the engine…) loads only when that command runs, so `harmonia --help`, `--version`
 * and the first line of `harmonia start` come at once.
 */
const lazy = (name: string, summary: string, load: () => Promise<Command>): Command => ({
  name,
  summary,
  run: async (args: string[], io: CliIO) => (await load()).run(args, io),
});

export const commands: readonly Command[] = [
  lazy(
    'start',
    'Start the support bot over the bundled docs or --docs DIR (the main job).',
    async () => (await import('./start.js')).startCommand,
  ),
  lazy(
    'chat',
    'Interactive terminal chat with an agent.',
    async () => (await import('./chat.js')).chatCommand,
  ),
  lazy('run', 'One non-interactive agent run.', async () => (await import('./run.js')).runCommand),
  lazy(
    'serve',
    'OpenAI-compatible HTTP API (Responses, Chat Completions) over a backend.',
    async () => (await import('./serve.js')).serveCommand,
  ),
  lazy(
    'mcp',
    'Serve the built-in tools over MCP (stdio or streamable HTTP).',
    async () => (await import('./mcp.js')).mcpCommand,
  ),
  lazy(
    'doctor',
    'Check a model backend the way the agent uses it, and say what to fix.',
    async () => (await import('./doctor.js')).doctorCommand,
  ),
  lazy(
    'harmony',
    'Harmony format: render, parse, encode, decode.',
    async () => (await import('./harmony.js')).harmonyCommand,
  ),
  lazy(
    'tool',
    'Run one built-in tool call: browser, python.',
    async () => (await import('./tool.js')).toolCommand,
  ),
  lazy('python', 'Python sandbox: build-image.', async () => (await import('./python.js')).pythonCommand),
  lazy(
    'router',
    'Model/effort router: route, train, eval.',
    async () => (await import('./router.js')).routerCommand,
  ),
  lazy(
    'engine',
    'Native MXFP4 engine: synth, logits, generate.',
    async () => (await import('./engine.js')).engineCommand,
  ),
  lazy('faq', 'RAG FAQ agent: index, ask, eval.', async () => (await import('./faq.js')).faqCommand),
  lazy(
    'monitor',
    "The support bot's on-task monitor: train, score.",
    async () => (await import('./monitor.js')).monitorCommand,
  ),
];
