// The python sandbox on a Docker engine reached over TCP, configured the way a remote engine is: DOCKER_HOST.
// The engine here is the local one behind a TCP forwarder on 127.0.0.1, so every API call and the hijacked
// attach stream of the kernel cross a real TCP connection.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonSandbox } from '../../src/python/index.js';
import { requireDocker } from './docker.js';

const SOCKET = '/var/run/docker.sock';
let forwarder: Server;
let port = 0;
let connections = 0;
let bytes = 0;
const open = new Set<Socket>();

beforeAll(async () => {
  await requireDocker();
  forwarder = createServer((c) => {
    connections++;
    open.add(c);
    const up = createConnection(SOCKET);
    c.on('data', (b: Buffer) => {
      bytes += b.length;
    });
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
    c.on('close', () => open.delete(c));
  });
  await new Promise<void>((r) => forwarder.listen(0, '127.0.0.1', r));
  port = (forwarder.address() as { port: number }).port;
});

afterAll(async () => {
  for (const c of open) c.destroy();
  await new Promise<void>((r) => forwarder?.close(() => r()));
});

describe('python sandbox on a Docker engine given by DOCKER_HOST (tcp://)', () => {
  it('runs stateful cells through the TCP engine address', { timeout: 120_000 }, async () => {
    const { image } = await requireDocker();
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${port}`;
    let sandbox: PythonSandbox;
    try {
      // No docker client passed: the sandbox's own default reads DOCKER_HOST, as the CLI and the bots do.
      sandbox = new PythonSandbox({ image });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    try {
      const a = await sandbox.run('remote', 'x = 41\nprint("hello from", "the engine")');
      expect(a.error).toBeNull();
      expect(a.output).toContain('hello from the engine');
      const b = await sandbox.run('remote', 'x + 1');
      expect(b.output.trim()).toBe('42');
      expect(connections).toBeGreaterThan(0);
      expect(bytes).toBeGreaterThan(0);
    } finally {
      await sandbox.dispose();
    }
  });
});
