/**
 * `harmonia python build-image` — builds the python tool's sandbox image from Debian packages (debootstrap +
 * docker import). `--if-missing` skips the build when the tag already exists (CI builds it once per machine).
 */
import { parseArgs } from 'node:util';
import { buildImage, defaultImageTag } from '@harmonia/tools';
import { commandGroup, type Subcommand, UsageError } from '../command.js';

const buildImageCommand: Subcommand = {
  summary: 'build the sandbox image (Debian bookworm + python3, numpy, pandas, matplotlib, scipy, sympy)',
  help: `Usage: harmonia python build-image [--if-missing] [--tag TAG] [--quiet]

Builds the image the python tool runs in, from Debian packages: debootstrap a minimal bookworm with python3, add
numpy, pandas, matplotlib, scipy and sympy, purge the compilers they drag in, precompile bytecode, docker import.
Needs root, debootstrap, a running Docker engine and access to deb.debian.org (DEBIAN_MIRROR overrides it).
Takes 1.5-3 minutes; the image is about 660 MB.

  --if-missing   do nothing when the tag already exists
  --tag TAG      image tag (default: ${defaultImageTag()}, a hash of the recipe; the python tool uses it by default)
  --quiet        print only the final line`,
  async run(args, io) {
    let values: { 'if-missing'?: boolean; tag?: string; quiet?: boolean };
    try {
      values = parseArgs({
        args,
        options: { 'if-missing': { type: 'boolean' }, tag: { type: 'string' }, quiet: { type: 'boolean' } },
        strict: true,
        allowPositionals: false,
      }).values;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (
      values.tag !== undefined &&
      !/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/.test(values.tag)
    ) {
      throw new UsageError(`--tag '${values.tag}' is not a valid image reference (e.g. my-python:1)`);
    }
    const result = await buildImage({
      tag: values.tag,
      ifMissing: values['if-missing'] ?? false,
      log: values.quiet ? undefined : (line) => io.stderr.write(`${line}\n`),
    });
    io.stdout.write(
      result.built
        ? `built ${result.tag} (${(result.size / 1e6).toFixed(0)} MB) in ${result.seconds.toFixed(0)} s\n`
        : `${result.tag} already exists (${(result.size / 1e6).toFixed(0)} MB); not rebuilt\n`,
    );
    return 0;
  },
};

export const pythonCommand = commandGroup('python', 'Python sandbox: build-image.', {
  'build-image': buildImageCommand,
});
