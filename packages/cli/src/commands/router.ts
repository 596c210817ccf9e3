import { commandGroup } from '../command.js';

// Placeholder until its issue lands: lists no subcommands yet.
export const routerCommand = commandGroup('router', 'Model/effort router: route, train, eval.', {});
