import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { PythonSandboxError } from './errors.js';

/** Image repository the builder tags into; the tag is a hash of the recipe, so a changed recipe builds anew. */
export const IMAGE_REPOSITORY = 'harmonia-python';

/** Debian packages installed on top of a minimal bookworm with python3. */
const PYTHON_PACKAGES = [
  'python3-numpy',
  'python3-pandas',
  'python3-matplotlib',
  'python3-scipy',
  'python3-sympy',
];

/**
 * Packages dragged in only as build dependencies (matplotlib → fonttools → scipy → pythran → g++, boost, python3-dev)
 * or GUI bits the sandbox cannot use. Purged with `--force-depends`, which leaves dpkg's state inconsistent: never
 * run apt inside the image, rebuild it instead.
 */
const PURGE_PACKAGES = [
  'g++',
  'g++-12',
  'gcc',
  'gcc-12',
  'cpp',
  'cpp-12',
  'libboost-dev',
  'libboost1.74-dev',
  'libopenblas-dev',
  'libopenblas-pthread-dev',
  'python3-all-dev',
  'python3-dev',
  'python3.11-dev',
  'libpython3-all-dev',
  'libpython3-dev',
  'libpython3.11-dev',
  'libstdc++-12-dev',
  'libgcc-12-dev',
  'libc6-dev',
  'libc-dev-bin',
  'linux-libc-dev',
  'libcrypt-dev',
  'libnsl-dev',
  'libtirpc-dev',
  'zlib1g-dev',
  'libexpat1-dev',
  'libxsimd-dev',
  'binutils',
  'binutils-common',
  'binutils-x86-64-linux-gnu',
  'libbinutils',
  'libctf0',
  'libctf-nobfd0',
  'libgprofng0',
  'libasan8',
  'libtsan2',
  'libubsan1',
  'liblsan0',
  'libitm1',
  'libcc1-0',
  'libisl23',
  'libmpc3',
  'libmpfr6',
  'rpcsvc-proto',
  'python3-tk',
  'tk8.6-blt2.5',
  'blt',
  'libtk8.6',
  'libtcl8.6',
  'libjs-jquery',
  'libjs-jquery-ui',
  'libjs-sphinxdoc',
  'libjs-underscore',
];

/** Settings baked into the image by `docker import --change`. */
const IMAGE_CHANGES = ['ENV LANG=C.UTF-8', 'ENV MPLBACKEND=Agg', 'CMD ["python3"]'];

/** The root filesystem recipe, run as root with `$R` set to an empty directory. */
export const ROOTFS_RECIPE = `set -eu
R="$1"
MIRROR="\${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
debootstrap --variant=minbase --include=python3 bookworm "$R" "$MIRROR"
cp /etc/resolv.conf "$R/etc/resolv.conf"
chroot "$R" apt-get update -q
chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${PYTHON_PACKAGES.join(' ')}
installed=$(chroot "$R" dpkg-query -W -f='\${db:Status-Abbrev} \${Package}\\n' | awk '$1 == "ii" { print $2 }')
purge=""
for p in ${PURGE_PACKAGES.join(' ')}; do
  if printf '%s\\n' "$installed" | grep -qx -- "$p"; then purge="$purge $p"; fi
done
if [ -n "$purge" ]; then chroot "$R" dpkg --purge --force-depends $purge; fi
chroot "$R" apt-get clean
rm -rf "$R"/var/lib/apt/lists/* "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/info/* "$R"/usr/share/locale/*
find "$R" -name __pycache__ -type d -prune -exec rm -rf {} +
# Compiled bytecode keeps imports fast on the read-only root (numpy+pandas+matplotlib: ~4 s without, <1 s with).
chroot "$R" python3 -m compileall -q -j2 /usr/lib/python3/dist-packages /usr/lib/python3.11 >/dev/null || true
# The tmpfs mounted on /mnt/data copies this directory's mode, so it must be world-writable (sticky) here.
mkdir -p "$R/mnt/data"
chmod 1777 "$R/mnt/data"
: > "$R/etc/resolv.conf"
`;

/** The tag the current recipe builds: `harmonia-python:<first 12 hex of sha256(recipe)>`. */
export function defaultImageTag(): string {
  const hash = createHash('sha256')
    .update(ROOTFS_RECIPE)
    .update(JSON.stringify(IMAGE_CHANGES))
    .digest('hex')
    .slice(0, 12);
  return `${IMAGE_REPOSITORY}:${hash}`;
}

export interface BuildImageOptions {
  /** Image tag to build; default {@link defaultImageTag}. */
  tag?: string;
  /** Skip the build when an image with this tag already exists. */
  ifMissing?: boolean;
  docker?: Docker;
  /** Progress lines (the recipe's own output is streamed here too). */
  log?: (line: string) => void;
  /** Where to build the root filesystem (a fresh directory under it is made and removed); default the OS tmpdir. */
  workDir?: string;
}

export interface BuildImageResult {
  tag: string;
  built: boolean;
  /** Image size in bytes as Docker reports it. */
  size: number;
  seconds: number;
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/**
 * Builds the sandbox image from Debian packages: debootstrap a minimal bookworm, add numpy/pandas/matplotlib/scipy/
 * sympy, purge the compilers they drag in, precompile bytecode, then `docker import` the tree. Needs root (debootstrap
 * and chroot), debootstrap on PATH, and http access to a Debian mirror (`DEBIAN_MIRROR` overrides it).
 */
export async function buildImage(options: BuildImageOptions = {}): Promise<BuildImageResult> {
  const docker = options.docker ?? new Docker();
  const tag = options.tag ?? defaultImageTag();
  const log = options.log ?? (() => {});
  const started = performance.now();
  if (options.ifMissing && (await imageExists(docker, tag))) {
    const info = await docker.getImage(tag).inspect();
    return { tag, built: false, size: info.Size, seconds: 0 };
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new PythonSandboxError(
      'building the sandbox image needs root (debootstrap and chroot); run it as root or build your own image and pass it with --image',
    );
  }
  const dir = await mkdtemp(join(options.workDir ?? tmpdir(), 'harmonia-rootfs-'));
  const rootfs = join(dir, 'rootfs');
  try {
    log(`building ${tag}: debootstrap bookworm + ${PYTHON_PACKAGES.join(', ')} in ${rootfs}`);
    await runStreaming('bash', ['-c', ROOTFS_RECIPE, 'recipe', rootfs], log);
    log(`importing ${rootfs} as ${tag}`);
    await importRootfs(docker, rootfs, tag);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const info = await docker.getImage(tag).inspect();
  const seconds = (performance.now() - started) / 1000;
  log(`built ${tag} (${(info.Size / 1e6).toFixed(0)} MB) in ${seconds.toFixed(0)} s`);
  return { tag, built: true, size: info.Size, seconds };
}

function runStreaming(cmd: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new PythonSandboxError(`could not run ${cmd}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new PythonSandboxError(`image recipe failed (exit ${code}); last output:\n${tail}`));
    });
  });
}

async function importRootfs(docker: Docker, rootfs: string, tag: string): Promise<void> {
  const [repo, version] = splitTag(tag);
  const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tarDone = new Promise<void>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new PythonSandboxError(`tar of the root filesystem failed (exit ${code})`)),
    );
  });
  const stream = await docker.importImage(tar.stdout, { repo, tag: version, changes: IMAGE_CHANGES });
  const messages = await new Promise<Array<{ error?: string; status?: string }>>((resolve, reject) =>
    docker.modem.followProgress(stream, (err, out) => (err ? reject(err) : resolve(out))),
  );
  await tarDone;
  const failed = messages.find((m) => m.error);
  if (failed) throw new PythonSandboxError(`docker import failed: ${failed.error}`);
}

function splitTag(tag: string): [string, string] {
  const at = tag.lastIndexOf(':');
  if (at <= 0 || tag.slice(at).includes('/')) return [tag, 'latest'];
  return [tag.slice(0, at), tag.slice(at + 1)];
}
