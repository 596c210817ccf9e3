/** The python sandbox could not do what was asked (Docker missing, image missing, build failed). */
export class PythonSandboxError extends Error {
  override name = 'PythonSandboxError';
}
