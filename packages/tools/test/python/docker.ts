import Docker from 'dockerode';
import { defaultImageTag, imageExists } from '../../src/python/index.js';

/**
 * Fails fast with an actionable message when the Docker engine or the sandbox image is missing, instead of letting
 * a test hang on a socket or a missing image.
 */
export async function requireDocker(): Promise<{ docker: Docker; image: string }> {
  const docker = new Docker();
  const image = process.env.HARMONIA_PYTHON_IMAGE ?? defaultImageTag();
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('no answer in 5 s')), 5000).unref(),
  );
  try {
    await Promise.race([docker.ping(), timeout]);
  } catch (err) {
    throw new Error(
      `These tests need a running Docker engine (${(err as Error).message}). Start one with ` +
        `'dockerd --iptables=false --bridge=none &' (as root) or set DOCKER_HOST; .ci/run does this.`,
    );
  }
  if (!(await imageExists(docker, image))) {
    throw new Error(
      `The sandbox image ${image} is missing. Build it with 'pnpm -s build && pnpm -s harmonia python build-image' ` +
        `(1.5-3 minutes), or point HARMONIA_PYTHON_IMAGE at an image with python3.`,
    );
  }
  return { docker, image };
}
