/**
 * `harmonia chat --backend SPEC [--effort low|medium|high] [--show-reasoning]`: an interactive terminal chat.
 * Plain line-based I/O (works under tmux and with piped stdin): the answer streams as it arrives, preambles and
 * tool calls are shown dimmed, reasoning only with --show-reasoning. `/exit` quits, `/new` starts over.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { runStream } from '@harmonia/core';
import { type CliIO, type Command, type FlagOptions, parseFlags } from '../command.js';
import { explainRunError } from '../run-errors.js';
import { ticker } from '../ticker.js';
import { disposeTools } from '../tools-registry.js';
import { AGENT_FLAGS, AGENT_FLAGS_HELP, agentFromFlags } from './run.js';

const flags = <const T extends FlagOptions>(args: string[], options: T) => parseFlags(args, options).values;

const HELP = `Usage: harmonia chat --backend SPEC [options]

Interactive chat with an agent. Type a message and press Enter; /new starts a new conversation, /exit quits.

${AGENT_FLAGS_HELP}
  --show-reasoning      show the model's reasoning (dimmed) before its answer, and the arguments of
                        tool calls it made while reasoning
  --no-color            plain text, no ANSI colours
`;

export const chatCommand: Command = {
  name: 'chat',
  summary: 'Interactive terminal chat with an agent.',
  async run(args: string[], io: CliIO): Promise<number> {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(HELP);
      return 0;
    }
    const v = flags(args, {
      ...AGENT_FLAGS,
      'show-reasoning': { type: 'boolean', default: false },
      'no-color': { type: 'boolean', default: false },
    });
    const agent = await agentFromFlags(v);
    const tty = (io.stdout as NodeJS.WriteStream).isTTY === true;
    const color = tty && !v['no-color'] && !process.env.NO_COLOR;
    const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[22m` : s);
    const out = (s: string) => io.stdout.write(s);
    const rl = createInterface({ input: io.stdin, output: io.stdout, terminal: tty });
    // On a terminal, a spinner while the model works and nothing is shown yet (reasoning is hidden by default).
    const wait = tty && (io.stderr as NodeJS.WriteStream).isTTY === true ? ticker(io) : undefined;
    let conversationId = randomUUID();
    const backendName = 'kind' in agent.backend ? agent.backend.id : 'backend chooser';
    out(dim(`harmonia chat · ${backendName} · effort ${agent.effort} · /exit to quit\n`));
    const prompt = () => {
      if (tty) out('\n> ');
    };
    prompt();
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === '/exit' || line === '/quit') break;
      if (line === '/new') {
        conversationId = randomUUID();
        out(dim('(new conversation)\n'));
        prompt();
        continue;
      }
      if (!line) {
        prompt();
        continue;
      }
      let section: 'reasoning' | 'preamble' | 'final' | null = null;
      const enter = (s: typeof section, label: string) => {
        wait?.stop();
        if (section !== s) {
          if (section !== null) out('\n');
          if (label) out(dim(label));
          section = s;
        }
      };
      wait?.start('Thinking');
      try {
        for await (const ev of runStream(agent, line, {
          conversationId,
          includeReasoning: v['show-reasoning'],
        })) {
          if (ev.type === 'reasoning_delta') {
            enter('reasoning', '[reasoning] ');
            out(dim(ev.delta));
          } else if (ev.type === 'preamble_delta') {
            enter('preamble', '');
            out(dim(ev.delta));
          } else if (ev.type === 'final_delta') {
            enter('final', '');
            out(ev.delta);
          } else if (ev.type === 'tool_call_started') {
            enter(null, '');
            // A call on the analysis channel is reasoning: its arguments are shown only with --show-reasoning.
            const args = ev.internal && !v['show-reasoning'] ? '…' : ev.arguments.slice(0, 200);
            out(dim(`\n→ ${ev.recipient}(${args})\n`));
            wait?.start(`Running ${ev.recipient}`);
          } else if (ev.type === 'answer_withdrawn') {
            enter(null, '');
            out(dim('\n(that answer was withdrawn; asking the model again)\n'));
          } else if (ev.type === 'tool_call_finished') {
            wait?.stop();
            if (ev.error && (!ev.internal || v['show-reasoning']))
              out(dim(`  ✗ ${ev.error.slice(0, 200)}\n`));
            wait?.start('Thinking');
          } else if (ev.type === 'done') {
            wait?.stop();
            if (ev.result.status !== 'completed') {
              out(
                `${ev.result.finalText}\n${dim(`(${ev.result.status}${ev.result.stop ? `: ${ev.result.stop.reason}` : ''})`)}`,
              );
            }
          }
        }
      } catch (err) {
        wait?.stop();
        const e = err as Error;
        const explained = explainRunError(err, {
          maxTokens: v['max-tokens'] ? Number(v['max-tokens']) : undefined,
          maxModelCallsFlag: true,
        });
        io.stderr.write(`\n${explained ?? `${e.name}: ${e.message}`}\n`);
      }
      wait?.stop();
      out('\n');
      prompt();
    }
    rl.close();
    // Closes MCP connections (and stdio servers) and frees tool state.
    await disposeTools([...agent.namespaces.values()]);
    return 0;
  },
};
