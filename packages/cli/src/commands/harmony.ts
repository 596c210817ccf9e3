import { commandGroup } from '../command.js';

// Placeholder until its issue lands: lists no subcommands yet.
export const harmonyCommand = commandGroup('harmony', 'Harmony format: render, parse, encode, decode.', {});
