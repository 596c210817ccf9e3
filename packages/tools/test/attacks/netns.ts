/**
 * Runs a script inside a network namespace of its own (`unshare -rnm`): loopback, a veth pair whose far end has
 * no address (anything routed off-box goes out `v0` and stops there, counted), private and metadata addresses
 * on loopback with listeners behind them, and bind-mounted /etc/hosts and /etc/resolv.conf (the name server is
 * a responder inside the namespace). Even if a guard fails, no packet can reach the host's network.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Addresses that exist only inside the namespace. */
export const NS = {
  /** A private address with HTTP (80), UDP (3478-3499) and "QUIC" (4433/udp) listeners. */
  privateV4: '10.77.1.5',
  /** The cloud metadata address, with an HTTP listener. */
  metadata: '169.254.169.254',
  privateV6: 'fd77:1::5',
  /** The name server in /etc/resolv.conf: a responder that answers every name with `privateV4`. */
  dns: '10.77.0.53',
  /** Off-box: routed out of v0 to nowhere. Anything sent here shows in v0's transmit counter. */
  offBox: '10.77.0.9',
} as const;

const SETUP = `set -e
ip link set lo up
ip link add v0 type veth peer name v1
ip link set v0 addrgenmode none 2>/dev/null || true
ip link set v1 addrgenmode none 2>/dev/null || true
ip addr add 10.77.0.1/24 dev v0
# No ARP or neighbour discovery on v0: frames leave at once and no resolution retry can land in a later
# scenario's count of what went off-box.
ip link set v0 arp off
ip link set v0 up
ip link set v1 up
ip route add default via 10.77.0.2
ip -6 addr add fd77::1/64 dev v0 nodad 2>/dev/null || true
ip -6 route add default via fd77::2 2>/dev/null || true
ip addr add ${NS.privateV4}/32 dev lo
ip addr add ${NS.metadata}/32 dev lo
ip addr add ${NS.dns}/32 dev lo
ip -6 addr add ${NS.privateV6}/128 dev lo nodad 2>/dev/null || true
mount --bind "$NS_DIR/hosts" /etc/hosts
mount --bind "$NS_DIR/resolv.conf" /etc/resolv.conf
`;

/** True when this machine lets an unprivileged user namespace make a network namespace with veth pairs. */
export function netnsAvailable(): boolean {
  const r = spawnSync('unshare', ['-rnm', 'sh', '-c', 'ip link add v0 type veth peer name v1'], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  return r.status === 0;
}

/** Runs `node --import tsx SCRIPT` inside a fresh namespace; resolves with its stdout parsed as JSON. */
export function runInNamespace<T>(script: string, timeoutMs = 120_000): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'harmonia-netns-'));
  writeFileSync(join(dir, 'hosts'), '127.0.0.1 localhost\n::1 localhost\n');
  writeFileSync(join(dir, 'resolv.conf'), `nameserver ${NS.dns}\noptions timeout:1 attempts:1\n`);
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-rnm', 'bash', '-c', `${SETUP}\nexec node --import tsx "$0"`, script], {
      cwd: ROOT,
      env: { ...process.env, NS_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err = (err + c.toString()).slice(-8000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`namespace script exited ${code}:\n${out.slice(-4000)}\n${err}`));
      }
    });
  });
}
