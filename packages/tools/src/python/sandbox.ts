import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import Docker from 'dockerode';
import {
  type ContainerSpecInput,
  containerSpec,
  DEFAULT_LIMITS,
  DETACHED_OWNER,
  LABEL,
  LABEL_HOST,
  LABEL_OWNER,
  LABEL_SESSION,
  type SandboxLimits,
} from './container.js';
import { PythonSandboxError } from './errors.js';
import { defaultImageTag, imageExists } from './image.js';
import { KernelConnection, type KernelReply, maxLineBytes } from './session.js';

export interface PythonSandboxOptions {
  /** Docker client; default `new Docker()` (DOCKER_HOST or /var/run/docker.sock). */
  docker?: Docker;
  /** Image with python3 (and whatever packages the model may use); default the locally built recipe image. */
  image?: string;
  /** Per-call wall-clock limit; default 120 000 ms, the figure the model was told. */
  timeoutMs?: number;
  /** How long to wait for a KeyboardInterrupt reply after a timeout before restarting the container. */
  interruptGraceMs?: number;
  /** Output kept per call, in bytes (head and tail with a marker in between). Default 20 000. */
  maxOutputBytes?: number;
  /** Idle sessions are removed after this long; default 15 minutes; 0 keeps them until dispose. */
  idleTimeoutMs?: number;
  /**
   * Containers outlive this process and can be found again by session id (the CLI). Their kernels exit by
   * themselves after `idleTimeoutMs`, and the next sweep removes the stopped container.
   */
  detached?: boolean;
  limits?: Partial<SandboxLimits>;
  /** Remove this process's containers on exit / SIGINT / SIGTERM. Default true unless `detached`. */
  exitHooks?: boolean;
  /** How long the kernel may take to print its ready line. Default 30 s. */
  startTimeoutMs?: number;
}

/** What one call did, for the developer; {@link formatResult} turns it into the text the model reads. */
export interface PythonRunResult {
  sessionId: string;
  output: string;
  truncated: boolean;
  outputBytes: number;
  /** Exception class name when the cell raised, else null. */
  error: string | null;
  /** Files in /mnt/data created or changed by this call (figures included). */
  files: string[];
  figures: string[];
  /** The call ran past the limit (or was aborted) and was interrupted. */
  timedOut: boolean;
  /** The interruption came from the caller's AbortSignal, not the time limit. */
  cancelled: boolean;
  /** Variables, imports and /mnt/data files are gone: the container was replaced. */
  stateLost: boolean;
  /** Why the container was replaced (timeout without answer, out of memory, crash). */
  restartReason?: string;
  timeoutMs: number;
  /** Wall time of the whole call on the host. */
  ms: number;
}

interface Session {
  id: string;
  conn: KernelConnection;
  lastUsed: number;
  /** Calls in one session run one after another. */
  queue: Promise<unknown>;
  busy: number;
  /** Why the state this session had is gone, to tell the model on its next call. */
  lostReason?: string;
}

const live = new Set<PythonSandbox>();
let hooksInstalled = false;

/**
 * One sandboxed, stateful Python kernel per session, each in its own Docker container. Containers are labelled
 * (`harmonia.python*`), idle ones are reaped, `dispose()` removes them all, and a start-up sweep removes orphans:
 * stopped containers and those whose owning process is gone.
 */
export class PythonSandbox {
  readonly docker: Docker;
  readonly image: string;
  readonly timeoutMs: number;
  readonly limits: SandboxLimits;
  private readonly options: PythonSandboxOptions;
  private readonly sessions = new Map<string, Session>();
  private readonly starting = new Map<string, Promise<Session>>();
  /** Sessions whose container went away between calls (idle reaping, sweep), with the reason. */
  private readonly lost = new Map<string, string>();
  private swept?: Promise<void>;
  private reaper?: NodeJS.Timeout;
  private disposed = false;

  constructor(options: PythonSandboxOptions = {}) {
    this.options = options;
    this.docker = options.docker ?? new Docker();
    this.image = options.image ?? defaultImageTag();
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    const idle = this.idleTimeoutMs;
    if (idle > 0 && !options.detached) {
      this.reaper = setInterval(() => void this.reapIdle(), Math.min(60_000, Math.max(1000, idle / 2)));
      this.reaper.unref();
    }
    if (options.exitHooks ?? !options.detached) installExitHooks();
    live.add(this);
  }

  private get maxLine(): number {
    return maxLineBytes(this.options.maxOutputBytes ?? 20_000);
  }

  get idleTimeoutMs(): number {
    return this.options.idleTimeoutMs ?? 15 * 60_000;
  }

  /** Runs one cell in the session's kernel, starting (or restarting) its container as needed. */
  async run(
    sessionId: string,
    code: string,
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<PythonRunResult> {
    if (this.disposed) throw new PythonSandboxError('this python sandbox was disposed');
    const session = await this.session(sessionId);
    const run = session.queue.then(() => this.runNow(session, code, opts));
    session.queue = run.catch(() => {});
    return run;
  }

  /** Removes one session's container (and any stopped ones left for that session id). */
  async disposeSession(sessionId: string): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    let removed = false;
    if (session) {
      session.conn.close();
      removed = await this.remove(session.conn.container);
    }
    for (const info of await this.list({ session: sessionId })) {
      if (await this.remove(this.docker.getContainer(info.Id))) removed = true;
    }
    return removed;
  }

  /**
   * Removes every container this sandbox started. A detached sandbox only lets go of its containers: they keep
   * running for the next process (use `disposeSession` to remove one).
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    live.delete(this);
    if (this.reaper) clearInterval(this.reaper);
    await Promise.allSettled([...this.starting.values()]);
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(
      sessions.map(async (s) => {
        s.conn.close();
        if (!this.options.detached) await this.remove(s.conn.container);
      }),
    );
  }

  /** Container ids this process holds (for the synchronous exit hook). */
  /** The engine's unix socket, once known (for the synchronous exit hook). */
  socketPath?: string;

  containerIds(): string[] {
    if (this.options.detached) return [];
    return [...this.sessions.values()].map((s) => s.conn.container.id);
  }

  /**
   * Removes orphans on this host: containers whose owning process is gone, and stopped detached ones.
   * Runs once before the first session starts; safe to call again.
   */
  async sweep(): Promise<number> {
    let removed = 0;
    for (const info of await this.list({})) {
      const owner = info.Labels?.[LABEL_OWNER] ?? '';
      // A live owner handles its own containers (one may be 'created' right now, between create and start).
      // Detached ones have no owner: remove them once their kernel has stopped (idle exit, crash).
      const orphan =
        owner === DETACHED_OWNER
          ? info.State === 'exited' || info.State === 'dead'
          : !processAlive(Number(owner));
      if (orphan && (await this.remove(this.docker.getContainer(info.Id)))) {
        removed++;
        const session = info.Labels?.[LABEL_SESSION];
        if (owner === DETACHED_OWNER && session !== undefined) {
          // Exit code 0: the kernel's own idle exit; anything else: it died between calls.
          this.noteLost(
            session,
            /\(0\)/.test(info.Status)
              ? 'it was idle for too long'
              : `it stopped between calls (${info.Status})`,
          );
        }
      }
    }
    return removed;
  }

  /** Checks that Docker answers and the image exists, with errors a user can act on. */
  async check(): Promise<void> {
    try {
      await this.docker.ping();
      const modem = this.docker.modem as { getSocketPath?: () => Promise<string | undefined> };
      this.socketPath = (await modem.getSocketPath?.()) ?? undefined;
    } catch (err) {
      throw new PythonSandboxError(
        `cannot reach the Docker engine (${(err as Error).message}); start dockerd (e.g. 'dockerd --iptables=false --bridge=none &') or set DOCKER_HOST`,
      );
    }
    if (!(await imageExists(this.docker, this.image))) {
      throw new PythonSandboxError(
        `the sandbox image ${this.image} does not exist; build it with 'pnpm -s harmonia python build-image' or pass an image that has python3`,
      );
    }
  }

  private async session(sessionId: string): Promise<Session> {
    const existing = this.sessions.get(sessionId);
    if (existing?.conn.isAlive) return existing;
    const pending = this.starting.get(sessionId);
    if (pending) return pending;
    const start = (async () => {
      this.swept ??= this.check().then(async () => {
        await this.sweep();
      });
      await this.swept.catch((err: unknown) => {
        this.swept = undefined;
        throw err;
      });
      const adopted = await this.adopt(sessionId);
      const conn = adopted ?? (await this.create(sessionId));
      const session: Session = {
        id: sessionId,
        conn,
        lastUsed: Date.now(),
        queue: Promise.resolve(),
        busy: 0,
      };
      if (!adopted) session.lostReason = this.lost.get(sessionId);
      this.lost.delete(sessionId);
      this.sessions.set(sessionId, session);
      return session;
    })();
    this.starting.set(sessionId, start);
    try {
      return await start;
    } finally {
      this.starting.delete(sessionId);
    }
  }

  /** Finds a running container left for this session (detached mode, or ours) and attaches to it. */
  private async adopt(sessionId: string): Promise<KernelConnection | undefined> {
    const mine = this.options.detached ? DETACHED_OWNER : String(process.pid);
    for (const info of await this.list({ session: sessionId })) {
      if (info.State !== 'running' || info.Labels?.[LABEL_OWNER] !== mine) continue;
      const conn = await KernelConnection.adopt(this.docker.getContainer(info.Id), 3000, this.maxLine).catch(
        () => undefined,
      );
      if (conn) return conn;
      await this.remove(this.docker.getContainer(info.Id));
    }
    return undefined;
  }

  private async create(sessionId: string): Promise<KernelConnection> {
    const idleSeconds = Math.ceil(this.idleTimeoutMs / 1000);
    const input: ContainerSpecInput = {
      image: this.image,
      sessionId,
      limits: this.limits,
      detached: this.options.detached ?? false,
      // In-process sessions are reaped by the host; the kernel's own idle exit is only a backstop.
      idleExitSeconds: idleSeconds === 0 ? 0 : this.options.detached ? idleSeconds : idleSeconds + 300,
    };
    const container = await this.docker.createContainer(containerSpec(input));
    try {
      return await KernelConnection.start(container, this.options.startTimeoutMs ?? 30_000, this.maxLine);
    } catch (err) {
      await this.remove(container);
      throw err;
    }
  }

  private async runNow(
    session: Session,
    code: string,
    opts: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<PythonRunResult> {
    const started = performance.now();
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    session.busy++;
    try {
      const base = { sessionId: session.id, timeoutMs };
      if (!session.conn.isAlive) {
        const why = await this.deathReason(session);
        await this.replace(session, why);
        session.lostReason = `it had stopped since the previous call (${why})`;
      }
      // State lost before this call (the code then ran in a fresh kernel): report it once, with this call's result.
      const lostBefore = session.lostReason;
      session.lostReason = undefined;
      const maxOutput = this.options.maxOutputBytes ?? 20_000;
      const id = session.conn.send(code, maxOutput, timeoutMs);
      let waited = await session.conn.wait(id, timeoutMs, opts.signal);
      let timedOut = false;
      if (waited.kind === 'timeout') {
        timedOut = true;
        await session.conn.interrupt();
        waited = await session.conn.wait(id, this.options.interruptGraceMs ?? 2000);
      }
      if (this.disposed && waited.kind !== 'reply') {
        throw new PythonSandboxError('the python sandbox was disposed during this call');
      }
      if (waited.kind === 'reply') {
        return {
          ...base,
          ...fromReply(waited.reply),
          timedOut,
          cancelled: timedOut && opts.signal?.aborted === true,
          stateLost: lostBefore !== undefined,
          ...(lostBefore !== undefined ? { restartReason: lostBefore } : {}),
          ms: performance.now() - started,
        };
      }
      const reason =
        waited.kind === 'timeout'
          ? 'the kernel did not answer an interrupt'
          : (session.conn.failure ?? (await this.deathReason(session)));
      await this.replace(session, reason);
      return {
        ...base,
        ...emptyResult(),
        timedOut,
        cancelled: timedOut && opts.signal?.aborted === true,
        stateLost: true,
        restartReason: reason,
        ms: performance.now() - started,
      };
    } finally {
      session.busy--;
      session.lastUsed = Date.now();
    }
  }

  /** Why a kernel's stream ended: out of memory, an exit code, or unknown. */
  private async deathReason(session: Session): Promise<string> {
    const container = session.conn.container;
    // The stream ends when the kernel dies, but Docker may take a while (seconds on a loaded host) to record the
    // container as stopped and why: wait for it rather than polling a fixed short window.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      container.wait().catch(() => undefined),
      new Promise((r) => {
        timer = setTimeout(r, 10_000);
      }),
    ]);
    clearTimeout(timer);
    const info = await container.inspect().catch(() => undefined);
    if (!info) return 'the container disappeared';
    if (info.State.Running) return 'the kernel stopped answering';
    if (info.State.OOMKilled) return `it ran out of memory (limit ${formatBytes(this.limits.memoryBytes)})`;
    if (info.State.ExitCode === 137) return 'it was killed (SIGKILL, most likely out of memory)';
    return `the python process exited with code ${info.State.ExitCode}`;
  }

  /** Removes the session's container and starts a fresh one under the same session. */
  private async replace(session: Session, reason?: string): Promise<string> {
    const why = reason ?? (await this.deathReason(session));
    session.conn.close();
    await this.remove(session.conn.container);
    session.conn = await this.create(session.id);
    return why;
  }

  private noteLost(sessionId: string, reason: string): void {
    this.lost.set(sessionId, reason);
    if (this.lost.size > 1000) this.lost.delete(this.lost.keys().next().value as string);
  }

  private async reapIdle(): Promise<void> {
    const now = Date.now();
    for (const s of [...this.sessions.values()]) {
      if (s.busy === 0 && now - s.lastUsed > this.idleTimeoutMs) {
        this.sessions.delete(s.id);
        this.noteLost(s.id, `it was idle for more than ${formatSeconds(this.idleTimeoutMs)}`);
        s.conn.close();
        await this.remove(s.conn.container);
      }
    }
  }

  private async list(filter: { session?: string }): Promise<Docker.ContainerInfo[]> {
    const labels = [`${LABEL}=1`, `${LABEL_HOST}=${hostname()}`];
    if (filter.session !== undefined) labels.push(`${LABEL_SESSION}=${filter.session}`);
    return this.docker.listContainers({ all: true, filters: { label: labels } });
  }

  private async remove(container: Docker.Container): Promise<boolean> {
    try {
      await container.remove({ force: true, v: true });
      return true;
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code === 404 || code === 409) return false; // gone already, or removal in progress
      throw err;
    }
  }
}

function fromReply(reply: KernelReply) {
  return {
    output: reply.output ?? '',
    truncated: reply.truncated ?? false,
    outputBytes: reply.output_bytes ?? 0,
    error: reply.error ?? null,
    files: reply.files ?? [],
    figures: reply.figures ?? [],
  };
}

function emptyResult() {
  return {
    output: '',
    truncated: false,
    outputBytes: 0,
    error: null,
    files: [],
    figures: [],
    timedOut: false,
    cancelled: false,
  };
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s.toFixed(0) : s.toFixed(1)} s`;
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Process-exit hooks, installed once for all sandboxes. `exit` cannot wait for async work, so it removes containers
 * from a child Node process run synchronously (`docker rm -f` when the engine is not on a unix socket). StdinOnce
 * makes the kernels exit anyway when this process's attach streams close, and the next start-up sweep removes what
 * is left. On SIGINT/SIGTERM that no other
 * listener handles, containers are removed first and the signal is then re-raised.
 */
/** Run by a synchronous child Node process at exit: `DELETE /containers/<id>?force=1&v=1` on the engine socket. */
const REMOVE_SCRIPT = `const http = require('node:http');
const [socketPath, ...ids] = process.argv.slice(1);
for (const id of ids) {
  http.request({ socketPath, method: 'DELETE', path: '/containers/' + id + '?force=1&v=1' }, (res) => res.resume()).end();
}`;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', () => {
    for (const sandbox of live) {
      const ids = sandbox.containerIds();
      if (ids.length === 0) continue;
      if (sandbox.socketPath) {
        spawnSync(process.execPath, ['-e', REMOVE_SCRIPT, sandbox.socketPath, ...ids], {
          stdio: 'ignore',
          timeout: 10_000,
        });
      } else {
        spawnSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore', timeout: 10_000 });
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const handler = () => {
      // Another handler owns this signal (a chat loop cancelling a turn, say): leave the policy to it.
      if (process.listenerCount(signal) > 1) return;
      const done = Promise.allSettled([...live].map((s) => s.dispose()));
      const timer = setTimeout(() => {}, 5000);
      void Promise.race([done, new Promise((r) => setTimeout(r, 5000))]).then(() => {
        clearTimeout(timer);
        process.removeListener(signal, handler);
        // Nobody else handles the signal: re-raise it so the default action (exit) happens as before.
        process.kill(process.pid, signal);
      });
    };
    process.on(signal, handler);
  }
}
