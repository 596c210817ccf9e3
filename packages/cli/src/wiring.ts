/**
 * Connects the packages the core runtime must not depend on: the built-in tools (`--tools browser,python`) and
 * the native engine (`--backend native:DIR`). Imported once by `main.ts`; heavy modules load only when used.
 */
import { backendFromSpec, registerBackendScheme } from '@harmonia/core';
import { registerTool } from './tools-registry.js';

registerTool('python', async () => {
  const { createPythonTool } = await import('@harmonia/tools');
  return createPythonTool();
});

registerTool('browser', async (flags) => {
  const { createBrowserTool } = await import('@harmonia/tools');
  return createBrowserTool({
    ...(flags.allowHosts?.length ? { allowHosts: flags.allowHosts } : {}),
    ...(flags.searchBackend
      ? {
          searchBackend: flags.searchBackend as NonNullable<
            Parameters<typeof createBrowserTool>[0]
          >['searchBackend'],
        }
      : {}),
  });
});

// Registered lazily so the engine (and its addon) loads only when a native: spec is used.
registerBackendScheme('native', async (dir, flags) => {
  const { registerNativeBackend } = await import('@harmonia/engine');
  registerNativeBackend();
  return backendFromSpec(`native:${dir}`, flags);
});
