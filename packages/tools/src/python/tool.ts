import type { ToolNamespaceConfig } from '@harmonia/core';
import { pythonNamespace, type ToolContext, type ToolNamespace, type ToolOutput } from '@harmonia/core';
import { formatResult } from './format.js';
import { PythonSandbox, type PythonSandboxOptions } from './sandbox.js';

export interface PythonToolOptions extends PythonSandboxOptions {
  /** Share a sandbox between tools (or manage it yourself); default a new one owned by the tool. */
  sandbox?: PythonSandbox;
}

/** The python tool as the model was trained on it: stateful, 120 s per call, files in /mnt/data. */
export interface PythonTool extends ToolNamespace {
  readonly sandbox: PythonSandbox;
  disposeConversation(conversationId: string): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Creates the `python` tool namespace: one sandboxed kernel per conversation, placed in the system message with the
 * official stateful description. Its answer goes back to the model on the channel the call came on.
 */
export function createPythonTool(options: PythonToolOptions = {}): PythonTool {
  const sandbox = options.sandbox ?? new PythonSandbox(options);
  const owned = options.sandbox === undefined;
  return {
    name: 'python',
    placement: 'system',
    stateful: true,
    // Output of code the model may have been talked into writing, over data from outside: framed as quoted data.
    untrusted: true,
    // Its own limit, the interrupt grace and a kernel restart, with room to spare: the runtime's deadline is a
    // backstop that never cuts a call the sandbox is still handling.
    callTimeoutMs: sandbox.timeoutMs + 60_000,
    sandbox,
    config(): ToolNamespaceConfig {
      return pythonConfig(sandbox.timeoutMs);
    },
    async call(_fn: string | undefined, args: string, ctx: ToolContext): Promise<ToolOutput> {
      const result = await sandbox.run(ctx.conversationId, args, { signal: ctx.signal });
      const { output: _output, ...meta } = result;
      return { text: formatResult(result), meta: { ...meta } };
    },
    async disposeConversation(conversationId: string): Promise<void> {
      await sandbox.disposeSession(conversationId);
    },
    async dispose(): Promise<void> {
      if (owned) await sandbox.dispose();
    },
  };
}

/** The official stateful namespace; a limit other than 120 s is written into the text so the model is told the truth. */
export function pythonConfig(timeoutMs = 120_000): ToolNamespaceConfig {
  const config = pythonNamespace();
  if (timeoutMs === 120_000 || !config.description) return config;
  const seconds = (timeoutMs / 1000).toFixed(1);
  return { ...config, description: config.description.replace('120.0 seconds', `${seconds} seconds`) };
}
