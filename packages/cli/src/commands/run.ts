import { commandGroup } from '../command.js';

// Placeholder until its issue lands: lists no subcommands yet.
export const runCommand = commandGroup('run', 'One non-interactive agent run.', {});
