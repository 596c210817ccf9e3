import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { KERNEL_SOURCE } from './kernel.js';

/** Labels every sandbox container carries; the start-up sweep and `--dispose` find containers by them. */
export const LABEL = 'harmonia.python';
export const LABEL_SESSION = 'harmonia.python.session';
export const LABEL_HOST = 'harmonia.python.host';
/** The owning process id, or `detached` for sessions meant to outlive their creator (the CLI). */
export const LABEL_OWNER = 'harmonia.python.owner';
export const DETACHED_OWNER = 'detached';

export interface SandboxLimits {
  /** Memory limit in bytes (tmpfs pages count against it too); swap is disabled. */
  memoryBytes: number;
  /** CPU limit in cores. */
  cpus: number;
  /** Process and thread count limit (fork bombs stop here). */
  pidsLimit: number;
  /** Size of the scratch tmpfs on /tmp. */
  tmpBytes: number;
  /** Size of /mnt/data, the only place meant for files the model keeps. */
  dataBytes: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  memoryBytes: 512 * 1024 * 1024,
  cpus: 1,
  pidsLimit: 128,
  tmpBytes: 64 * 1024 * 1024,
  dataBytes: 256 * 1024 * 1024,
};

export interface ContainerSpecInput {
  image: string;
  sessionId: string;
  limits: SandboxLimits;
  detached: boolean;
  /** The kernel exits after this many idle seconds (0 = never); the container then stops and is swept later. */
  idleExitSeconds: number;
}

/** The container a session runs in: no network, nobody user, read-only root, every capability dropped. */
export function containerSpec(input: ContainerSpecInput): Docker.ContainerCreateOptions {
  const { limits } = input;
  return {
    Image: input.image,
    Cmd: ['python3', '-u', '-c', KERNEL_SOURCE],
    Labels: {
      [LABEL]: '1',
      [LABEL_SESSION]: input.sessionId,
      [LABEL_HOST]: hostname(),
      [LABEL_OWNER]: input.detached ? DETACHED_OWNER : String(process.pid),
    },
    User: '65534:65534',
    Env: [
      'HOME=/tmp',
      'LANG=C.UTF-8',
      'MPLBACKEND=Agg',
      'MPLCONFIGDIR=/tmp/.matplotlib',
      'OMP_NUM_THREADS=1',
      'OPENBLAS_NUM_THREADS=1',
      'MKL_NUM_THREADS=1',
      'PYTHONDONTWRITEBYTECODE=1',
      `HARMONIA_IDLE_EXIT=${input.idleExitSeconds}`,
    ],
    // Don't set WorkingDir to /mnt/data: Docker then recreates the mount point without its mode. The kernel chdirs.
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    // In-process sessions: when the owning process goes away its attach stream closes, stdin closes, the kernel
    // exits. Detached sessions keep stdin open so a later process can attach again.
    StdinOnce: !input.detached,
    Tty: false,
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      // No init: the kernel's supervisor is PID 1 itself (it reaps, forwards SIGINT, and cannot be killed or
      // have its protocol fds opened from inside).
      Init: false,
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pidsLimit,
      ReadonlyRootfs: true,
      Tmpfs: {
        '/tmp': `rw,nosuid,nodev,size=${limits.tmpBytes},mode=1777`,
        '/mnt/data': `rw,nosuid,nodev,size=${limits.dataBytes},mode=1777`,
      },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
    },
  };
}
