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

/** Bytes one protocol line may take before the kernel is treated as broken (replies hold at most the output cap). */
export function maxLineBytes(maxOutputBytes: number): number {
  // JSON escapes can turn one output byte into six (\u0001); file lists and fields add the rest.
  return 8 * maxOutputBytes + (1 << 20);
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Checks a reply's fields and types; returns the reply, or why it is not one. */
export function checkReply(msg: Record<string, unknown>): KernelReply | string {
  const bad = (field: string, want: string) => `the kernel sent a malformed reply (${field} is not ${want})`;
  if (typeof msg.id !== 'string') return bad('id', 'a string');
  if (typeof msg.output !== 'string') return bad('output', 'a string');
  if (msg.error !== null && msg.error !== undefined && typeof msg.error !== 'string') {
    return bad('error', 'a string or null');
  }
  for (const k of ['truncated', 'interrupted'] as const) {
    if (msg[k] !== undefined && typeof msg[k] !== 'boolean') return bad(k, 'true or false');
  }
  for (const k of ['output_bytes', 'files_total', 'seconds'] as const) {
    if (msg[k] !== undefined && (typeof msg[k] !== 'number' || !Number.isFinite(msg[k]))) {
      return bad(k, 'a number');
    }
  }
  for (const k of ['files', 'figures'] as const) {
    if (msg[k] !== undefined && !isStrings(msg[k])) return bad(k, 'a list of strings');
  }
  return {
    id: msg.id,
    output: msg.output,
    truncated: (msg.truncated as boolean | undefined) ?? false,
    output_bytes: (msg.output_bytes as number | undefined) ?? Buffer.byteLength(msg.output),
    error: (msg.error as string | null | undefined) ?? null,
    interrupted: (msg.interrupted as boolean | undefined) ?? false,
    files: (msg.files as string[] | undefined) ?? [],
    files_total: (msg.files_total as number | undefined) ?? 0,
    figures: (msg.figures as string[] | undefined) ?? [],
    seconds: (msg.seconds as number | undefined) ?? 0,
  };
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
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Why the connection was dropped on our side (a reply too large or malformed), if it was. */
  failure?: string;
  private readonly pending = new Map<string, Pending>();
  private readonly replies = new Map<string, KernelReply>();
  private readyResolve?: (ok: boolean) => void;
  private stderrTail = '';
  private alive = true;

  private constructor(
    readonly container: Docker.Container,
    private readonly stream: Duplex,
    private readonly maxLine: number,
  ) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    container.modem.demuxStream(stream, stdout, stderr);
    stdout.on('data', (chunk: Buffer) => this.onStdout(chunk));
    stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.subarray(-4000).toString('utf8')).slice(-4000);
    });
    const onEnd = () => this.onEnd();
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onEnd);
  }

  /** Attaches to a created (not yet started) container, starts it and waits for the kernel's ready line. */
  static async start(
    container: Docker.Container,
    readyTimeoutMs: number,
    maxLine = maxLineBytes(20_000),
  ): Promise<KernelConnection> {
    const stream = await attach(container);
    const conn = new KernelConnection(container, stream, maxLine);
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
    maxLine = maxLineBytes(20_000),
  ): Promise<KernelConnection | undefined> {
    const stream = await attach(container);
    const conn = new KernelConnection(container, stream, maxLine);
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

  /**
   * Writes one request; returns its id. With `timeoutMs` the kernel also enforces the limit itself (interrupt at
   * +5 s, stop at +15 s), so a cell nobody waits for any more cannot run on.
   */
  send(code: string, maxOutput: number, timeoutMs?: number): string {
    const id = randomUUID();
    const req = { id, code, max_output: maxOutput, ...(timeoutMs ? { timeout_ms: timeoutMs } : {}) };
    this.stream.write(`${JSON.stringify(req)}\n`);
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

  private onStdout(chunk: Buffer): void {
    if (!this.alive) return;
    let start = 0;
    let nl = chunk.indexOf(10);
    while (nl >= 0) {
      const part = chunk.subarray(start, nl);
      const line = this.buffered === 0 ? part : Buffer.concat([...this.chunks, part]);
      this.chunks = [];
      this.buffered = 0;
      this.onLine(line.toString('utf8'));
      if (!this.alive) return;
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      this.chunks.push(chunk.subarray(start));
      this.buffered += chunk.length - start;
      // A line this long is no reply: stop reading before it costs memory, and drop the kernel.
      if (this.buffered > this.maxLine) this.fail(`the kernel sent a reply over ${this.maxLine} bytes`);
    }
  }

  /** Drops a kernel that broke the protocol; pending calls end as `died`, and `failure` says why. */
  private fail(reason: string): void {
    this.failure = reason;
    this.chunks = [];
    this.buffered = 0;
    this.close();
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not ours (nothing else should write here; ignore rather than fail a call)
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return;
    if ((msg as { ready?: unknown }).ready === true) {
      this.readyResolve?.(true);
      return;
    }
    const checked = checkReply(msg as Record<string, unknown>);
    if (typeof checked === 'string') {
      this.fail(checked);
      return;
    }
    const p = this.pending.get(checked.id);
    if (p) p.resolve({ kind: 'reply', reply: checked });
    else this.replies.set(checked.id, checked);
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
