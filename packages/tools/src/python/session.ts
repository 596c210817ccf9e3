import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { PythonSandboxError } from './errors.js';

/** One reply line from the kernel (see kernel.ts). */
export interface KernelReply {
  id: string;
  output: string;
  truncated: boolean;
  output_bytes: number;
  error: string | null;
  interrupted: boolean;
  files: string[];
  files_total: number;
  figures: string[];
  seconds: number;
}

/** How waiting for a reply ended. */
export type WaitResult = { kind: 'reply'; reply: KernelReply } | { kind: 'timeout' } | { kind: 'died' };

interface Pending {
  resolve: (r: WaitResult) => void;
  timer?: NodeJS.Timeout;
}

/**
 * A live connection to one container's kernel over a hijacked attach stream. Knows nothing about timeouts policy or
 * restarts: `send` writes a request, `wait` waits for its reply, for a deadline, or for the kernel to die.
 */
export class KernelConnection {
  private buffer = '';
  private readonly pending = new Map<string, Pending>();
  private readonly replies = new Map<string, KernelReply>();
  private readyResolve?: (ok: boolean) => void;
  private stderrTail = '';
  private alive = true;

  private constructor(
    readonly container: Docker.Container,
    private readonly stream: Duplex,
  ) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    container.modem.demuxStream(stream, stdout, stderr);
    stdout.on('data', (chunk: Buffer) => this.onStdout(chunk.toString('utf8')));
    stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    const onEnd = () => this.onEnd();
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onEnd);
  }

  /** Attaches to a created (not yet started) container, starts it and waits for the kernel's ready line. */
  static async start(container: Docker.Container, readyTimeoutMs: number): Promise<KernelConnection> {
    const stream = await attach(container);
    const conn = new KernelConnection(container, stream);
    const ready = new Promise<boolean>((resolve) => {
      conn.readyResolve = resolve;
    });
    await container.start();
    const timer = setTimeout(() => conn.readyResolve?.(false), readyTimeoutMs);
    const ok = await ready;
    clearTimeout(timer);
    if (!ok) {
      const why = conn.alive
        ? `did not start within ${readyTimeoutMs} ms`
        : 'stopped before it was ready (is python3 on the PATH of the image?)';
      conn.close();
      throw new PythonSandboxError(
        `the python kernel ${why}${conn.stderrTail ? `:\n${conn.stderrTail}` : ''}`,
      );
    }
    return conn;
  }

  /** Attaches to a kernel that is already running (a session left by an earlier process) and checks it answers. */
  static async adopt(
    container: Docker.Container,
    pingTimeoutMs: number,
  ): Promise<KernelConnection | undefined> {
    const stream = await attach(container);
    const conn = new KernelConnection(container, stream);
    const id = conn.send('', 1000);
    let result = await conn.wait(id, pingTimeoutMs);
    if (result.kind === 'timeout') {
      // Still busy with a cell an earlier process sent and abandoned (it was killed mid-call): interrupt that cell.
      await conn.interrupt();
      result = await conn.wait(id, pingTimeoutMs);
    }
    if (result.kind === 'reply') return conn;
    conn.close();
    return undefined;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** The last bytes the container wrote to stderr outside a cell (start-up failures). */
  get stderr(): string {
    return this.stderrTail;
  }

  /** Writes one request; returns its id. */
  send(code: string, maxOutput: number): string {
    const id = randomUUID();
    this.stream.write(`${JSON.stringify({ id, code, max_output: maxOutput })}\n`);
    return id;
  }

  /** Waits up to `ms` for the reply to `id`. A timeout leaves the request pending: `wait` again after an interrupt. */
  wait(id: string, ms: number, signal?: AbortSignal): Promise<WaitResult> {
    const done = this.replies.get(id);
    if (done) {
      this.replies.delete(id);
      return Promise.resolve({ kind: 'reply', reply: done });
    }
    if (!this.alive) return Promise.resolve({ kind: 'died' });
    return new Promise((resolve) => {
      const finish = (r: WaitResult) => {
        clearTimeout(entry.timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.pending.get(id) === entry) this.pending.delete(id);
        resolve(r);
      };
      const onAbort = () => finish({ kind: 'timeout' });
      const entry: Pending = { resolve: finish };
      entry.timer = setTimeout(() => finish({ kind: 'timeout' }), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, entry);
    });
  }

  /** Sends SIGINT to the kernel (docker-init forwards it): the running cell gets a KeyboardInterrupt. */
  async interrupt(): Promise<void> {
    await this.container.kill({ signal: 'SIGINT' }).catch(() => {});
  }

  /** Drops the attach stream; the container keeps running unless its stdin closes with it (StdinOnce). */
  close(): void {
    this.alive = false;
    this.stream.destroy();
    for (const p of this.pending.values()) p.resolve({ kind: 'died' });
    this.pending.clear();
  }

  private onStdout(text: string): void {
    this.buffer += text;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
      nl = this.buffer.indexOf('\n');
    }
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not ours (nothing else should write here; ignore rather than fail a call)
    }
    if (typeof msg !== 'object' || msg === null) return;
    if ((msg as { ready?: boolean }).ready === true) {
      this.readyResolve?.(true);
      return;
    }
    const reply = msg as KernelReply;
    const p = this.pending.get(reply.id);
    if (p) p.resolve({ kind: 'reply', reply });
    else if (typeof reply.id === 'string') this.replies.set(reply.id, reply);
    // Keep only a few unclaimed replies (answers to requests an earlier process sent and abandoned).
    if (this.replies.size > 16) this.replies.delete(this.replies.keys().next().value as string);
  }

  private onEnd(): void {
    if (!this.alive) return;
    this.alive = false;
    this.readyResolve?.(false);
    for (const p of this.pending.values()) p.resolve({ kind: 'died' });
    this.pending.clear();
  }
}

async function attach(container: Docker.Container): Promise<Duplex> {
  const stream = await container.attach({
    stream: true,
    stdin: true,
    stdout: true,
    stderr: true,
    hijack: true,
  });
  return stream as unknown as Duplex;
}
