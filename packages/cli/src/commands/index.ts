import type { Command } from '../command.js';
import { chatCommand } from './chat.js';
import { doctorCommand } from './doctor.js';
import { engineCommand } from './engine.js';
import { faqCommand } from './faq.js';
import { harmonyCommand } from './harmony.js';
import { mcpCommand } from './mcp.js';
import { monitorCommand } from './monitor.js';
import { pythonCommand } from './python.js';
import { routerCommand } from './router.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { startCommand } from './start.js';
import { toolCommand } from './tool.js';

/** Every top-level command, in the order `harmonia --help` lists them. */
export const commands: readonly Command[] = [
  startCommand,
  chatCommand,
  runCommand,
  serveCommand,
  mcpCommand,
  doctorCommand,
  harmonyCommand,
  toolCommand,
  pythonCommand,
  routerCommand,
  engineCommand,
  faqCommand,
  monitorCommand,
];
