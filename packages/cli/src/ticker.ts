import type { CliIO } from './command.js';

/**
 * A progress line on stderr for slow steps (model load, first indexing): on a terminal it counts seconds in place
 * every half second, so the screen is never still for long; piped, it prints the step once.
 */
export interface Ticker {
  start(label: string): void;
  /** A new label for the same step: the seconds keep counting (terminal only). */
  relabel(label: string): void;
  stop(): void;
}

export function ticker(io: CliIO): Ticker {
  const err = io.stderr as NodeJS.WriteStream;
  const tty = err.isTTY === true;
  let timer: NodeJS.Timeout | undefined;
  let label = '';
  let t0 = 0;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let n = 0;
  const draw = () => {
    const s = ((Date.now() - t0) / 1000).toFixed(0);
    err.write(`\r${frames[n++ % frames.length]} ${label}… ${s}s\x1b[K`);
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    if (timer && tty) err.write('\r\x1b[K');
    timer = undefined;
  };
  return {
    start(l) {
      stop();
      label = l;
      t0 = Date.now();
      if (!tty) {
        err.write(`${l}…\n`);
        return;
      }
      draw();
      timer = setInterval(draw, 500);
      timer.unref?.();
      // A step that runs in the same tick still shows once.
    },
    relabel(l) {
      label = l;
    },
    stop,
  };
}
