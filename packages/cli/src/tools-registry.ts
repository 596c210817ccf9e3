/**
 * `--tools` names → tool namespaces. `echo` is built in; `browser` and `python` come from @harmonia/tools
 * (the lead registers their factories with `registerTool` when wiring the CLI).
 */
import { echoFunction, type FunctionTool, type ToolNamespace } from '@harmonia/core';
import { UsageError } from './command.js';

/** Options the CLI passes to tool factories (`--allow-host`, `--search-backend`). */
export interface ToolFlags {
  allowHosts?: string[];
  searchBackend?: string;
}

export type ToolFactory = (
  flags: ToolFlags,
) => Promise<FunctionTool | ToolNamespace> | FunctionTool | ToolNamespace;

const registry = new Map<string, ToolFactory>([
  ['echo', () => echoFunction()],
  // ['browser', () => browserNamespace(...)],  ← from @harmonia/tools, registered by the CLI wiring
  // ['python', () => pythonNamespace(...)],    ← from @harmonia/tools, registered by the CLI wiring
]);

export function registerTool(name: string, factory: ToolFactory): void {
  registry.set(name, factory);
}

export function knownTools(): string[] {
  return [...registry.keys()];
}

/** Parses `--tools a,b` into tools; unknown names are a usage error listing the known ones. */
export async function resolveTools(
  list: string | undefined,
  flags: ToolFlags = {},
): Promise<(FunctionTool | ToolNamespace)[]> {
  if (!list) return [];
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const out: (FunctionTool | ToolNamespace)[] = [];
  for (const name of names) {
    const factory = registry.get(name);
    if (!factory)
      throw new UsageError(`unknown tool '${name}' in --tools; known: ${knownTools().join(', ')}`);
    out.push(await factory(flags));
  }
  return out;
}

/** Frees namespaces that hold resources (browser contexts, containers). */
export async function disposeTools(tools: readonly (FunctionTool | ToolNamespace)[]): Promise<void> {
  for (const t of tools) if ('dispose' in t && typeof t.dispose === 'function') await t.dispose();
}
