import { commandGroup } from '../command.js';

// Placeholder until its issue lands: lists no subcommands yet.
export const toolCommand = commandGroup('tool', 'Run one built-in tool call: browser, python.', {});
