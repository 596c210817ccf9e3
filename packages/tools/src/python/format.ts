import { formatSeconds, type PythonRunResult } from './sandbox.js';

/** The tool message the model reads for one call: the cell's output, then bracketed notes about files and failures. */
export function formatResult(r: PythonRunResult): string {
  const parts: string[] = [];
  const output = r.output.replace(/\s+$/, '');
  if (output) parts.push(output);
  const figures = new Set(r.figures);
  if (r.figures.length > 0)
    parts.push(`[figure${r.figures.length > 1 ? 's' : ''} saved: ${r.figures.join(', ')}]`);
  const files = r.files.filter((f) => !figures.has(f));
  if (files.length > 0) parts.push(`[files written in /mnt/data: ${files.join(', ')}]`);
  const stopped = r.cancelled
    ? 'The call was cancelled'
    : `The code timed out after ${formatSeconds(r.timeoutMs)}`;
  if (r.stateLost) {
    const what = r.timedOut
      ? `${stopped} and ${r.restartReason ?? 'the kernel did not answer'}, so the Python environment was restarted.`
      : `The Python environment was restarted because ${r.restartReason ?? 'the kernel died'}.`;
    parts.push(`[${what} All state was lost: variables, imports and files in /mnt/data are gone.]`);
  } else if (r.timedOut) {
    parts.push(
      `[${stopped} and was interrupted. Variables and files from before the interruption are kept.]`,
    );
  }
  if (parts.length === 0) parts.push('[no output]');
  return parts.join('\n');
}
