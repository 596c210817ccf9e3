import { createServer, type Server } from 'node:http';
import { BackendUnavailableError, type ConversationStore, StoreOpenError } from '@harmonia/core';
import { pino } from 'pino';
import type { BotLogger, ChatAdapter } from './adapter.js';
import { FaqConfigError } from './agent.js';

/** A JSON logger (pino) for a bot process: one line per event, `LOG_LEVEL` sets the level (default info). */
export function createBotLogger(name: string, env: NodeJS.ProcessEnv = process.env): BotLogger & pino.Logger {
  return pino({ name, level: env.LOG_LEVEL ?? 'info', base: { service: name, pid: process.pid } });
}

export interface HealthServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/**
 * `GET /healthz`: 200 `{"status":"ok"}` while the bot takes messages (and the store answers, when `check` says
 * so), 503 while it shuts down or a check fails. For container health checks and Kubernetes probes.
 */
export async function startHealthServer(options: {
  port: number;
  host?: string;
  /** Throws or resolves false when the bot is not healthy. */
  check?: () => Promise<boolean>;
  status?: () => Record<string, unknown>;
}): Promise<HealthServer & { setDraining(): void }> {
  let draining = false;
  const server = createServer((req, res) => {
    if (req.url !== '/healthz' && req.url !== '/readyz') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    void (async () => {
      let ok = !draining;
      let reason = draining ? 'shutting down' : undefined;
      if (ok && options.check) {
        try {
          ok = await options.check();
          if (!ok) reason = 'check failed';
        } catch (err) {
          ok = false;
          reason = (err as Error).message;
        }
      }
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          status: ok ? 'ok' : 'unavailable',
          ...(reason ? { reason } : {}),
          ...options.status?.(),
        }),
      );
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const a = server.address();
  return {
    server,
    port: typeof a === 'object' && a ? a.port : options.port,
    setDraining: () => {
      draining = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A store check for `/healthz`: the store answers a read. */
export function storeCheck(store: ConversationStore): () => Promise<boolean> {
  return async () => {
    await store.load('__healthz__');
    return true;
  };
}

export interface ShutdownOptions {
  adapter: ChatAdapter;
  /** Disconnects from the chat platform. */
  stopApp: () => Promise<void>;
  store?: ConversationStore;
  health?: HealthServer & { setDraining(): void };
  logger?: BotLogger;
  /** How long answers in flight may take before they are aborted (default 20 s; Kubernetes gives 30 s). */
  deadlineMs?: number;
}

/**
 * Graceful stop: health turns 503, no new messages are taken, answers in flight finish or are aborted at the
 * deadline (their users get the error reply), then the platform client, the store and the health server close.
 */
export async function shutdown(options: ShutdownOptions): Promise<{ finished: number; aborted: number }> {
  options.health?.setDraining();
  const result = await options.adapter.drain(options.deadlineMs ?? 20_000);
  options.logger?.info(result, 'in-flight answers done');
  await options
    .stopApp()
    .catch((err: unknown) =>
      options.logger?.warn({ err: { message: (err as Error).message } }, 'stop failed'),
    );
  await options.store?.dispose?.();
  await options.health?.close();
  return result;
}

/** SIGINT/SIGTERM → `shutdown`, then exit 0 (a second signal exits at once). */
export function onSignals(options: ShutdownOptions, exit: (code: number) => void = process.exit): void {
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) return exit(1);
      stopping = true;
      options.logger?.info({ signal: sig }, 'shutting down');
      void shutdown(options).then(
        () => exit(0),
        (err: unknown) => {
          options.logger?.error({ err: { message: (err as Error).message } }, 'shutdown failed');
          exit(1);
        },
      );
    });
  }
}

/** A bot's environment holds a value it cannot use; the process should exit 2 with this one-line message. */
export class BotConfigError extends Error {
  override name = 'BotConfigError';
}

/** `RATE_LIMIT` (questions per user per minute; default 6, 0 turns it off) as the chat adapter's `rateLimit`. */
export function rateLimitFromEnv(raw: string | undefined): { messages: number; perMs: number } | false {
  const n = raw === undefined || raw === '' ? 6 : Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new BotConfigError(`RATE_LIMIT must be a whole number of questions per minute, got '${raw}'`);
  }
  return n === 0 ? false : { messages: n, perMs: 60_000 };
}

/**
 * What a connected bot process runs until it stops: `GET /healthz` on `HEALTH_PORT` (default 8080, 0 turns it
 * off) and a graceful stop on SIGINT/SIGTERM within `SHUTDOWN_DEADLINE_MS` (default 20 000).
 */
export async function runBotOperations(
  options: Omit<ShutdownOptions, 'health' | 'deadlineMs' | 'store'> & {
    store: ConversationStore;
    env?: NodeJS.ProcessEnv;
  },
): Promise<void> {
  const { env = process.env, ...rest } = options;
  const healthPort = Number(env.HEALTH_PORT ?? 8080);
  const health = healthPort
    ? await startHealthServer({
        port: healthPort,
        check: storeCheck(options.store),
        status: () => ({ inFlight: options.adapter.inFlight }),
      })
    : undefined;
  onSignals({
    ...rest,
    deadlineMs: Number(env.SHUTDOWN_DEADLINE_MS ?? 20_000),
    ...(health ? { health } : {}),
  });
}

/**
 * The exit code for an error a bot reports in one line at start-up — 2 for bad configuration, 1 for a backend,
 * docs folder or store it cannot use — or undefined for anything else (a bug: let it throw).
 */
export function startupExitCode(err: unknown): number | undefined {
  if (err instanceof BotConfigError) return 2;
  if (
    err instanceof BackendUnavailableError ||
    err instanceof FaqConfigError ||
    err instanceof StoreOpenError
  ) {
    return 1;
  }
  return undefined;
}
