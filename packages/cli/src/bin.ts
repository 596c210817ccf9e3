#!/usr/bin/env node
import type { CliIO } from './command.js';

// Loading the runtime (the tokenizer's tables, the SDKs) takes a second or two on a busy machine: on a terminal,
// the interactive commands show a first line before it, then their own progress takes over.
const argv = process.argv.slice(2);
const early =
  (argv[0] === 'start' || argv[0] === 'chat') &&
  !argv.includes('--help') &&
  !argv.includes('-h') &&
  process.stderr.isTTY === true;
if (early) process.stderr.write('Loading Harmonia…');
const { main } = await import('./main.js');
if (early) process.stderr.write('\r\x1b[K');

const io: CliIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
process.exitCode = await main(argv, io);
