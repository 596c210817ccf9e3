import { describe, expect, it } from 'vitest';
import { containerSpec, DEFAULT_LIMITS } from '../../src/python/container.js';
import { defaultImageTag, formatResult, type PythonRunResult, pythonConfig } from '../../src/python/index.js';

// No Docker needed: the container settings and the text the model reads.

const base: PythonRunResult = {
  sessionId: 's',
  output: '',
  truncated: false,
  outputBytes: 0,
  error: null,
  files: [],
  figures: [],
  timedOut: false,
  cancelled: false,
  stateLost: false,
  timeoutMs: 120_000,
  ms: 1,
};

describe('python container spec', () => {
  const spec = containerSpec({
    image: 'img:1',
    sessionId: 'conv-1',
    limits: DEFAULT_LIMITS,
    detached: false,
    idleExitSeconds: 60,
  });

  it('locks the sandbox down', () => {
    expect(spec.User).toBe('65534:65534');
    expect(spec.NetworkDisabled).toBe(true);
    expect(spec.Tty).toBe(false);
    expect(spec.StdinOnce).toBe(true);
    expect(spec.WorkingDir).toBeUndefined();
    expect(spec.HostConfig).toMatchObject({
      NetworkMode: 'none',
      Init: false,
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: 512 * 1024 * 1024,
      MemorySwap: 512 * 1024 * 1024,
      NanoCpus: 1e9,
      PidsLimit: 128,
      LogConfig: { Type: 'none', Config: {} },
    });
    expect(Object.keys(spec.HostConfig?.Tmpfs ?? {}).sort()).toEqual(['/mnt/data', '/tmp']);
    expect(spec.HostConfig?.Tmpfs?.['/mnt/data']).toContain('mode=1777');
    expect(spec.HostConfig?.Binds).toBeUndefined();
    expect(spec.HostConfig?.Privileged).toBeUndefined();
  });

  it('labels the container with its session and owner', () => {
    expect(spec.Labels).toMatchObject({
      'harmonia.python': '1',
      'harmonia.python.session': 'conv-1',
      'harmonia.python.owner': String(process.pid),
    });
    const detached = containerSpec({
      image: 'i',
      sessionId: 'x',
      limits: DEFAULT_LIMITS,
      detached: true,
      idleExitSeconds: 5,
    });
    expect(detached.Labels?.['harmonia.python.owner']).toBe('detached');
    expect(detached.StdinOnce).toBe(false);
    expect(detached.Env).toContain('HARMONIA_IDLE_EXIT=5');
  });

  it('tags the image by a hash of the recipe', () => {
    expect(defaultImageTag()).toMatch(/^harmonia-python:[0-9a-f]{12}$/);
  });
});

describe('python tool message', () => {
  it('prints output, figures and files, or [no output]', () => {
    expect(formatResult(base)).toBe('[no output]');
    expect(
      formatResult({
        ...base,
        output: '42\n\n',
        figures: ['/mnt/data/figure-1-1.png'],
        files: ['/mnt/data/figure-1-1.png', '/mnt/data/a.csv'],
      }),
    ).toBe('42\n[figure saved: /mnt/data/figure-1-1.png]\n[files written in /mnt/data: /mnt/data/a.csv]');
  });

  it('says whether state survived a timeout, a cancellation or a restart', () => {
    expect(formatResult({ ...base, timedOut: true, output: 'KeyboardInterrupt\n' })).toBe(
      'KeyboardInterrupt\n[The code timed out after 120 s and was interrupted. Variables and files from before the interruption are kept.]',
    );
    expect(formatResult({ ...base, timedOut: true, cancelled: true })).toMatch(
      /^\[The call was cancelled and was interrupted/,
    );
    expect(
      formatResult({
        ...base,
        timedOut: true,
        stateLost: true,
        restartReason: 'the kernel did not answer an interrupt',
      }),
    ).toBe(
      '[The code timed out after 120 s and the kernel did not answer an interrupt, so the Python environment was restarted. All state was lost: variables, imports and files in /mnt/data are gone.]',
    );
    expect(
      formatResult({ ...base, stateLost: true, restartReason: 'it ran out of memory (limit 512 MiB)' }),
    ).toBe(
      '[The Python environment was restarted because it ran out of memory (limit 512 MiB). All state was lost: variables, imports and files in /mnt/data are gone.]',
    );
  });

  it('describes the namespace with the official stateful text and the real limit', () => {
    const config = pythonConfig();
    expect(config.name).toBe('python');
    expect(config.description).toContain('stateful Jupyter notebook environment');
    expect(config.description).toContain(
      "The drive at '/mnt/data' can be used to save and persist user files.",
    );
    expect(pythonConfig(60_000).description).toContain('time out after 60.0 seconds');
  });
});
