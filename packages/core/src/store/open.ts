import { homedir } from 'node:os';
import { join } from 'node:path';
import { pgliteDriver, postgresDriver, StoreOpenError } from './drivers.js';
import { SqlConversationStore, type SqlStoreOptions } from './sql.js';
import { type ConversationStore, InMemoryConversationStore } from './store.js';

/** Where `openStore` keeps the embedded store when given no location: the user's cache folder. */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'harmonia', 'store');
}

export interface OpenStoreOptions extends SqlStoreOptions {
  /** PostgreSQL pool size per process (default 10). */
  maxConnections?: number;
}

/**
 * Opens a store from one string, as the CLI and the bots take it:
 * `memory` (in-process, forgotten on exit), `postgres://…` / `postgresql://…` (a PostgreSQL server, for several
 * replicas), `pglite:memory` (embedded, in memory), or a folder path (embedded PGlite, file-backed).
 * Migrations run before it resolves.
 */
export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<ConversationStore> {
  const s = spec.trim();
  if (!s) throw new StoreOpenError('empty store location: give a folder, postgres://…, or memory');
  if (s === 'memory') return new InMemoryConversationStore();
  if (/^postgres(ql)?:\/\//i.test(s)) {
    const driver = await postgresDriver(s, {
      ...(options.maxConnections ? { max: options.maxConnections } : {}),
    });
    try {
      return await new SqlConversationStore(driver, options).init();
    } catch (err) {
      await driver.close().catch(() => {});
      throw err;
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s))
    throw new StoreOpenError(
      `unsupported store URL ${s.split('//')[0]}//…: give a folder, postgres://…, or memory`,
    );
  const location = s === 'pglite:memory' ? 'memory' : s.replace(/^pglite:/, '');
  const driver = await pgliteDriver(location);
  try {
    return await new SqlConversationStore(driver, options).init();
  } catch (err) {
    await driver.close().catch(() => {});
    throw err;
  }
}
