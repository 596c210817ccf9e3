import type { Command } from '../command.js';

// Placeholder until the browser tool lands.
export const toolBrowserCommand: Command = {
  name: 'browser',
  summary: 'The browser tool (not built yet).',
  async run(_args, io) {
    io.stderr.write('harmonia tool browser: not available yet\n');
    return 1;
  },
};
