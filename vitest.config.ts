import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The unit suite. Test files run in shared worker processes (`isolate: false`): tfjs, the kernel
 * pack and the sources are loaded once per worker instead of once per file (about 0.8 s of wall
 * time per file on 2 cores, a third of the suite). Files that replace modules (`vi.mock`) need a
 * fresh module graph and run isolated; so do the job-queue files (Redis servers, worker child
 * processes and BullMQ connections per file: run one after another in a shared process, the
 * worker process exited before the last of them).
 */
const root = fileURLToPath(new URL('.', import.meta.url));
/** The unit-test files that call `vi.mock` (found, so that a new one cannot run shared). */
const MOCKING = readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' })
  .map((f) => `test/${f.split('\\').join('/')}`)
  .filter((f) => f.endsWith('.test.ts') && !f.startsWith('test/faults/'))
  .filter((f) => readFileSync(join(root, f), 'utf8').includes('vi.mock('));
const ISOLATED = [...MOCKING, 'test/queue/**/*.test.ts'];

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts'],
          // the fault-injection suite runs on its own: npm run test:faults
          exclude: ['test/faults/**', 'node_modules/**', ...ISOLATED],
          isolate: false,
        },
      },
      { extends: true, test: { name: 'isolated', include: ISOLATED, isolate: true } },
    ],
  },
});
