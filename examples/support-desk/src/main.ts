/**
 * The support desk in a terminal: one question per line on stdin, each answer on stdout with the specialist that
 * gave it on stderr. Environment: HARMONIA_BACKEND (a backend spec) or HARMONIA_ROUTE (routed arms);
 * WARDEN_ROLES (comma-separated roles the host verified for this user, e.g. `tenant`).
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { backendFromSpec } from '@harmonia/core';
import { createRoutedBackend, parseRouteFlag } from '@harmonia/router';
import { createSupportDesk } from './desk.js';

const env = process.env;
if (!env.HARMONIA_BACKEND && !env.HARMONIA_ROUTE) {
  process.stderr.write(
    'set HARMONIA_BACKEND (e.g. http://127.0.0.1:11434) or HARMONIA_ROUTE (20b=SPEC,120b=SPEC)\n',
  );
  process.exit(2);
}
const backend = env.HARMONIA_ROUTE
  ? await createRoutedBackend(parseRouteFlag(env.HARMONIA_ROUTE))
  : await backendFromSpec(env.HARMONIA_BACKEND as string);
const desk = createSupportDesk({ backend });
const caller = { roles: (env.WARDEN_ROLES ?? '').split(',').filter(Boolean) };
const conversationId = randomUUID();
for await (const line of createInterface({ input: process.stdin, terminal: false })) {
  if (!line.trim()) continue;
  const r = await desk.triage.run(line, { conversationId, caller });
  process.stderr.write(`[${r.agent}] ${r.decision.reason}\n`);
  process.stdout.write(`${r.result.finalText}\n`);
}
