import { commandGroup } from '../command.js';

// Placeholder until its issue lands: lists no subcommands yet.
export const doctorCommand = commandGroup('doctor', 'Probe a model server and print what to fix.', {});
