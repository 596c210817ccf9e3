// Builds the N-API addon with node-gyp against the headers of the running Node (no header download: this
// machine may be offline). Run through `pnpm --filter @harmonia/engine run build:native`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const prefix = resolve(process.execPath, '../..');
const args = ['rebuild', '-j', '2'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

// node-gyp is on PATH inside npm/pnpm scripts; otherwise use the copy bundled with npm.
const bundled = join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const viaPath = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' }).status === 0;
const [cmd, cmdArgs] = viaPath ? ['node-gyp', args] : [process.execPath, [bundled, ...args]];
const r = spawnSync(cmd, cmdArgs, { cwd: pkg, stdio: 'inherit' });
process.exit(r.status ?? 1);
