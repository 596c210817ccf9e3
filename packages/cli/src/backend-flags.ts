/**
 * The backend flags every model-using command shares (`--backend`, `--model`, `--profile`, `--api-key`), and how a
 * command turns them into a backend: `--backend` else `$HARMONIA_BACKEND`; the key is `--api-key`, else
 * `$HARMONIA_API_KEY` when the backend is the one `$HARMONIA_BACKEND` names (a key set for one server is never
 * sent to another), else the hosted API's own variable for its own host.
 */
import {
  type Backend,
  type BackendFlags,
  BackendUnavailableError,
  backendForms,
  backendHelp,
  PROFILE_NAMES,
  type Resolution,
  resolveSpec,
} from '@harmonia/core';
import { type FlagOptions, UsageError } from './command.js';

export const BACKEND_FLAGS = {
  backend: { type: 'string' },
  model: { type: 'string' },
  profile: { type: 'string' },
  'api-key': { type: 'string' },
} as const satisfies FlagOptions;

/** Help lines for BACKEND_FLAGS, the schemes listed from the one scheme table. */
export function backendFlagsHelp(): string {
  return [
    '  --backend SPEC        where gpt-oss runs (default $HARMONIA_BACKEND):',
    backendHelp(24),
    '  --model NAME          model on a server (default: a gpt-oss model it lists)',
    `  --profile NAME        chat: capability profile, default from the server: ${PROFILE_NAMES.join(', ')}`,
    '  --api-key KEY         key for that server only (default $HARMONIA_API_KEY when the backend is',
    '                        $HARMONIA_BACKEND; hosted APIs: OPENAI_/OPENROUTER_/GROQ_API_KEY for their own host)',
  ].join('\n');
}

export interface BackendFlagValues {
  backend?: string | undefined;
  model?: string | undefined;
  profile?: string | undefined;
  'api-key'?: string | undefined;
}

/** The spec from the flags or the environment; a usage error naming both when neither is set. */
export function specOf(v: BackendFlagValues, env: NodeJS.ProcessEnv = process.env): string {
  const spec = v.backend ?? env.HARMONIA_BACKEND;
  if (!spec) throw new UsageError(`--backend is required (or set HARMONIA_BACKEND): ${backendForms()}`);
  return spec;
}

/** The flags `backendFromSpec` takes, with the key rule above applied. */
export function backendFlagsOf(
  v: BackendFlagValues,
  spec: string,
  env: NodeJS.ProcessEnv = process.env,
): BackendFlags {
  const envKey = spec === env.HARMONIA_BACKEND ? env.HARMONIA_API_KEY : undefined;
  const apiKey = v['api-key'] ?? envKey;
  return {
    ...(v.model ? { model: v.model } : {}),
    ...(v.profile ? { profile: v.profile } : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

/** Resolves the backend the flags name, with what was found on the way. */
export async function resolveBackendFlags(
  v: BackendFlagValues,
  extra: BackendFlags = {},
): Promise<Resolution & { spec: string }> {
  const spec = specOf(v);
  return { spec, ...(await resolveSpec(spec, { ...backendFlagsOf(v, spec), ...extra })) };
}

/** The backend the flags name; when it is not reachable, the error ends with `help` (what to run to get one). */
export async function backendWithHelp(v: BackendFlagValues, help: string): Promise<Backend> {
  try {
    return (await resolveBackendFlags(v)).backend;
  } catch (err) {
    if (err instanceof BackendUnavailableError)
      throw new BackendUnavailableError(`${err.message}\n\n${help}`);
    throw err;
  }
}
