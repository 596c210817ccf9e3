export {
  type CliIO,
  type Command,
  commandGroup,
  type FlagOptions,
  type FlagValues,
  memoryIO,
  parseFlags,
  readStdin,
  type Subcommand,
  UsageError,
} from './command.js';
export { main } from './main.js';
