import { commandGroup } from '../command.js';

// Placeholder until its issue lands: lists no subcommands yet.
export const faqCommand = commandGroup('faq', 'RAG FAQ agent: index, ask, eval.', {});
