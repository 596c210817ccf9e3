/**
 * One bot process for the restart tests: opens the store given on the command line, answers one message with a
 * scripted model (reply cap 2), prints one JSON line, and exits. `hang` makes the model never answer (the parent
 * kills the process mid-turn). Runs against the built package (`tsc -b` runs before the tests).
 */
import { Agent, harmonyScript, openStore, run, ScriptedBackend } from '../../dist/index.js';

const [spec, conversationId, text, mode] = process.argv.slice(2);
const store = await openStore(spec);
const backend = new ScriptedBackend([
  (req) => {
    if (mode === 'hang') {
      process.stdout.write(`${JSON.stringify({ hanging: true })}\n`);
      // Never returns: the parent kills this process while the turn is in flight.
      const until = Date.now() + 60_000;
      while (Date.now() < until) {}
    }
    return harmonyScript.final(`answer to ${text} (prompt had ${req.prompt.length} tokens)`);
  },
]);
const agent = new Agent({
  instructions: 'Answer briefly.',
  backend,
  store,
  replyCap: 2,
  currentDate: '2026-01-15',
});
const result = await run(agent, text, { conversationId });
const prompt = backend.calls ? backend.promptText(0) : '';
process.stdout.write(
  `${JSON.stringify({ status: result.status, text: result.finalText, stop: result.stop, prompt })}\n`,
);
await store.dispose?.();
