import { commandGroup } from '../command.js';

// Placeholder until its issue lands: lists no subcommands yet.
export const engineCommand = commandGroup('engine', 'Native MXFP4 engine: synth, logits, generate.', {});
