import type { Command } from '../command.js';
import { toolBrowserCommand } from './tool-browser.js';
import { toolPythonCommand } from './tool-python.js';

const tools: Record<string, Command> = { browser: toolBrowserCommand, python: toolPythonCommand };

function help(): string {
  return [
    'Usage: harmonia tool <browser|python> ... [--help]',
    '',
    'Runs one built-in tool call and prints the tool message the model would read.',
    '',
    ...Object.values(tools).map((t) => `  ${t.name.padEnd(10)} ${t.summary}`),
    '',
  ].join('\n');
}

export const toolCommand: Command = {
  name: 'tool',
  summary: 'Run one built-in tool call: browser, python.',
  async run(args, io) {
    const [name, ...rest] = args;
    if (name === undefined || name === '--help' || name === '-h') {
      io.stdout.write(help());
      return name === undefined ? 2 : 0;
    }
    const tool = tools[name];
    if (!tool) {
      io.stderr.write(`harmonia tool: unknown tool '${name}'\n\n${help()}`);
      return 2;
    }
    return tool.run(rest, io);
  },
};
