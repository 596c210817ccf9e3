import { z } from 'zod';
import { defineFunction, type FunctionTool } from './define.js';

/** `functions.echo`: returns its arguments as JSON. A built-in for tests and the `--tools echo` CLI flag. */
export function echoFunction(): FunctionTool {
  return defineFunction({
    name: 'echo',
    description: 'Returns its arguments unchanged.',
    parameters: z.looseObject({ text: z.string().optional().describe('Text to echo back') }),
    execute: (args) => ({ text: JSON.stringify(args) }),
  });
}
