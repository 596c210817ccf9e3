import type { Command } from '../command.js';

// Placeholder until the python tool lands.
export const toolPythonCommand: Command = {
  name: 'python',
  summary: 'The python tool (not built yet).',
  async run(_args, io) {
    io.stderr.write('harmonia tool python: not available yet\n');
    return 1;
  },
};
