import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { SqlDriver, SqlExecutor, SqlRow } from './sql.js';

/** The store could not be opened (bad location, in use, server unreachable); the message says what to do. */
export class StoreOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}

interface PgliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  exec(sql: string): Promise<unknown>;
  transaction<T>(
    fn: (tx: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> }) => Promise<T>,
  ): Promise<T>;
  close(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Embedded store folders this process has open (the lock file cannot tell this process's two opens apart). */
const openHere = new Set<string>();

/**
 * One process at a time may open an embedded store, and that process once: PGlite is a single-user database, and
 * the store caches conversations because it is the only writer. The lock file records `pid host`; a lock whose
 * process is gone (same host), that another host (a container since replaced) left behind, or that carries this
 * process's own pid (a restarted container's pid 1) without this process having the folder open, is taken over.
 */
function lockDir(dir: string): () => void {
  const key = realpathSync(dir);
  if (openHere.has(key))
    throw new StoreOpenError(
      `embedded store ${dir} is already open in this process; open it once and share the store`,
    );
  const unlock = lockFile(dir);
  openHere.add(key);
  return () => {
    openHere.delete(key);
    unlock();
  };
}

function lockFile(dir: string): () => void {
  const file = join(dir, 'harmonia.pid');
  const me = `${process.pid} ${hostname()}`;
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, me);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [pidText, host] = readFileSync(file, 'utf8').trim().split(/\s+/);
      const pid = Number(pidText);
      const sameHost = host === undefined || host === hostname();
      if (pid && sameHost && pid !== process.pid && alive(pid))
        throw new StoreOpenError(
          `embedded store ${dir} is in use by process ${pid}; one process per embedded store — use PostgreSQL (postgres://…) for several replicas`,
        );
      rmSync(file, { force: true });
    }
  }
  throw new StoreOpenError(`could not lock embedded store ${dir}`);
}

/**
 * An embedded PostgreSQL (PGlite, WebAssembly: no server, no native build) in a folder; `memory` keeps it in
 * memory (tests, benchmarks).
 */
export async function pgliteDriver(location: string | 'memory'): Promise<SqlDriver> {
  let unlock = () => {};
  if (location !== 'memory') {
    try {
      mkdirSync(location, { recursive: true });
    } catch (err) {
      throw new StoreOpenError(`cannot create the store folder ${location}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    unlock = lockDir(location);
  }
  let db: PgliteLike;
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    db = (await PGlite.create(
      location === 'memory' ? undefined : join(location, 'pgdata'),
    )) as unknown as PgliteLike;
  } catch (err) {
    unlock();
    throw new StoreOpenError(`cannot open the embedded store at ${location}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const exec: SqlExecutor = {
    query: async (sql, params) => (await db.query<SqlRow>(sql, params as unknown[])).rows,
  };
  return {
    kind: 'embedded',
    query: exec.query,
    exec: async (sql) => {
      await db.exec(sql);
    },
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({ query: async (sql, params) => (await tx.query<SqlRow>(sql, params as unknown[])).rows }),
      ),
    close: async () => {
      try {
        await db.close();
      } finally {
        unlock();
      }
    },
  };
}

export interface PostgresDriverOptions {
  /** Most connections this process opens (default 10). */
  max?: number;
}

/** A PostgreSQL server through the `pg` client's pool (several replicas share it). */
export async function postgresDriver(url: string, options: PostgresDriverOptions = {}): Promise<SqlDriver> {
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 10_000,
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  try {
    const c = await pool.connect();
    c.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new StoreOpenError(`cannot connect to PostgreSQL at ${redact(url)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return {
    kind: 'postgres',
    query: async (sql, params) => (await pool.query(sql, params as unknown[])).rows as SqlRow[],
    exec: async (sql) => {
      await pool.query(sql);
    },
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn({
          query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
        });
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
