import { fileURLToPath } from 'node:url';

// Both from `src/` (tests) and `dist/` (built) the package root is one level up.
/** The Harmonia user docs shipped with the example. */
export const bundledDocsDir = fileURLToPath(new URL('../docs/', import.meta.url));
/** Evaluation questions over the bundled docs. */
export const bundledQuestionsFile = fileURLToPath(new URL('../eval/questions.jsonl', import.meta.url));
/** The trained on-task monitor shipped with the package (`harmonia monitor train` writes others). */
export const bundledMonitorModel = fileURLToPath(new URL('../monitor/model.json', import.meta.url));
/** Docs of fictional products the bundled monitor is trained on, one folder per product. */
export const bundledMonitorCorpora = fileURLToPath(new URL('../monitor/corpora/', import.meta.url));
/** Docs of a fictional product the bundled monitor is only evaluated on (never trained on). */
export const bundledHeldoutCorpora = fileURLToPath(new URL('../monitor/heldout-corpora/', import.meta.url));
