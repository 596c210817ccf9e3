import { commandGroup } from '../command.js';

// Placeholder until its issue lands: lists no subcommands yet.
export const chatCommand = commandGroup('chat', 'Interactive terminal chat with an agent.', {});
