import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources, so `vitest` never runs against a stale build.
const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@harmonia/core': src('./packages/core/src/index.ts'),
      '@harmonia/tools': src('./packages/tools/src/index.ts'),
      '@harmonia/router': src('./packages/router/src/index.ts'),
      '@harmonia/engine': src('./packages/engine/src/index.ts'),
      '@harmonia/support': src('./packages/support/src/index.ts'),
      '@harmonia/cli': src('./packages/cli/src/index.ts'),
      '@harmonia/server': src('./packages/server/src/index.ts'),
      '@harmonia/discord-bot': src('./examples/discord-bot/src/index.ts'),
      '@harmonia/slack-bot': src('./examples/slack-bot/src/index.ts'),
      '@harmonia/support-desk': src('./examples/support-desk/src/index.ts'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Two cores: Chromium, Docker and LanceDB tests contend badly when many files run at once.
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
