import { commandGroup } from '../command.js';

// Placeholder until its issue lands: lists no subcommands yet.
export const pythonCommand = commandGroup('python', 'Python sandbox: build-image.', {});
