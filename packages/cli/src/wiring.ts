/**
 * Connects the packages the core runtime must not depend on: the built-in tools (`--tools browser,python`) and
 * the native engine (`--backend native:DIR`). Imported once by `main.ts`; heavy modules load only when used.
 */
import { registerBackendScheme } from './backend-spec.js';
import { registerTool } from './tools-registry.js';

registerTool('python', async () => {
  const { createPythonTool } = await import('@harmonia/tools');
  return createPythonTool();
});

registerTool('browser', async () => {
  const { createBrowserTool } = await import('@harmonia/tools');
  return createBrowserTool();
});

registerBackendScheme('native', async (dir) => {
  const { NativeBackend } = await import('@harmonia/engine');
  return NativeBackend.open(dir);
});
