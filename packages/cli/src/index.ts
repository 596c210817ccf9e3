export { type CliIO, type Command, commandGroup, readStdin, type Subcommand, UsageError } from './command.js';
export { main } from './main.js';
