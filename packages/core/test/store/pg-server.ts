/**
 * A throwaway PostgreSQL server for tests: initdb in a temp folder, listening on 127.0.0.1 (a free port) and a
 * unix socket in that folder, trust auth, run as the `postgres` (or `nobody`) user when we are root (initdb
 * refuses root). Binaries come from PATH, HARMONIA_PG_BIN, or Debian's /usr/lib/postgresql/<v>/bin.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function findPgBin(): string | undefined {
  const candidates: string[] = [];
  if (process.env.HARMONIA_PG_BIN) candidates.push(process.env.HARMONIA_PG_BIN);
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) candidates.push(join(which.stdout.trim(), '..'));
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  }
  for (const c of candidates) {
    if (existsSync(join(c, 'initdb')) && existsSync(join(c, 'postgres'))) return c;
    // PATH may hold symlinks (initdb -> /usr/lib/postgresql/15/bin/initdb): resolve through the link.
    try {
      const real = execFileSync('readlink', ['-f', join(c, 'initdb')], { encoding: 'utf8' }).trim();
      const dir = join(real, '..');
      if (existsSync(join(dir, 'postgres'))) return dir;
    } catch {}
  }
  return undefined;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. In CI a missing server is a failure. */
export function pgUnavailable(): string | undefined {
  return findPgBin()
    ? undefined
    : 'PostgreSQL binaries not found (apt-get install postgresql; .ci/run does it)';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function runAsUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { uid: Number(r.stdout), gid: Number(g.stdout) };
  }
  throw new Error('running as root and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

export async function startPgServer(): Promise<PgServer> {
  const bin = findPgBin();
  if (!bin) throw new Error(pgUnavailable());
  const dir = mkdtempSync(join(tmpdir(), 'harmonia-pg-'));
  const data = join(dir, 'data');
  const user = runAsUser();
  if (user) chownSync(dir, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'harmonia', '--auth=trust', '--encoding=UTF8', '--no-sync', '--locale=C'],
    { encoding: 'utf8', ...as, env: { ...process.env, LC_ALL: 'C' } },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  let lastErr = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${dir}`,
        '-c',
        'fsync=off',
        '-c',
        'max_connections=200',
        '-c',
        'shared_buffers=32MB',
      ],
      { ...as, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const ready = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 30_000);
      const check = () => {
        if (stderr.includes('ready to accept connections')) {
          clearTimeout(t);
          resolve(true);
        } else if (child.exitCode !== null) {
          clearTimeout(t);
          resolve(false);
        } else setTimeout(check, 50);
      };
      check();
    });
    if (ready) {
      const url = `postgres://harmonia@127.0.0.1:${port}/postgres`;
      return {
        url,
        port,
        stop: async () => {
          if (child.exitCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGINT');
            await exited;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    lastErr = stderr;
    child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`postgres did not start: ${lastErr.slice(-2000)}`);
}
