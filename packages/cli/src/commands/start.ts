import { commandGroup } from '../command.js';

// Placeholder until its issue lands: lists no subcommands yet.
export const startCommand = commandGroup(
  'start',
  'Start the RAG FAQ support agent over the bundled docs (the main job).',
  {},
);
