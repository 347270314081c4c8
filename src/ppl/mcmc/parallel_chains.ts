/**
 * `chainMethod: 'parallel'` in Node (NumPyro's `chain_method='parallel'`, Pyro's multiprocessing
 * chains): a pool of worker threads, at most one per core, each running chain jobs
 * (`chain_worker.ts`) taken from a queue. Jobs are plain data (the recorded potential, not the
 * model), so workers need not import the user's model. Node-only: the MCMC driver loads this
 * module by a computed specifier, so browser bundles never contain it.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChainJob, ChainJobResult } from './chain_worker.js';

/** Options of {@link runParallelChains}. */
export interface ParallelChainsOptions {
  /** Worker threads (default: one per job, at most the number of cores). */
  threads?: number;
  /** Called with a chain's index and its iterations done so far. */
  onProgress?: (chain: number, done: number) => void;
  /** Called with a chain's snapshots (jobs with `checkpointEvery`). */
  onCheckpoint?: (chain: number, snapshot: ChainJobResult) => void;
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; done: number }
  | { type: 'error'; message: string }
  | ({ type: 'checkpoint' } & ChainJobResult)
  | ({ type: 'result' } & ChainJobResult);

/** The worker's bootstrap: a CommonJS script that loads the job runner (via tsx from source). */
const BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  const m = await import(workerData.entry);
  parentPort.on('message', (job) => {
    try {
      const r = m.runChainJob(
        job,
        (done) => parentPort.postMessage({ type: 'progress', done }),
        (s) => parentPort.postMessage({ type: 'checkpoint', stats: s.stats, kept: s.kept, state: s.state }),
      );
      parentPort.postMessage({ type: 'result', stats: r.stats, kept: r.kept, state: r.state });
    } catch (e) {
      parentPort.postMessage({ type: 'error', message: String((e && e.stack) || e) });
    }
  });
  parentPort.postMessage({ type: 'ready' });
})().catch((e) => parentPort.postMessage({ type: 'error', message: String((e && e.stack) || e) }));
`;

/** Where the job runner is: `chain_worker.ts` under tsx/vitest (with tsx's loader), else `.js`. */
function workerData(): { entry: string; tsx?: string } {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(`./chain_worker.${fromSource ? 'ts' : 'js'}`, import.meta.url).href;
  if (!fromSource) return { entry };
  // tsx's ESM API (its CommonJS entry cannot register from a worker's eval script)
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsx = pathToFileURL(join(dirname(pkg), 'dist', 'esm', 'api', 'index.mjs')).href;
  return { entry, tsx };
}

/**
 * Run chain jobs on a pool of worker threads; resolves with their results in job order (rejects
 * with the first worker error, after terminating the pool).
 */
export async function runParallelChains(
  jobs: ChainJob[],
  options: ParallelChainsOptions = {},
): Promise<ChainJobResult[]> {
  const n = Math.max(1, Math.min(jobs.length, options.threads ?? availableParallelism()));
  const results: ChainJobResult[] = new Array<ChainJobResult>(jobs.length);
  const data = workerData();
  let next = 0;
  const workers: Worker[] = [];
  const one = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(BOOT, { eval: true, workerData: data });
      workers.push(w);
      let current = -1;
      const take = (): void => {
        if (next >= jobs.length) {
          void w.terminate().then(() => resolve());
          return;
        }
        current = next++;
        w.postMessage(jobs[current]);
      };
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') take();
        else if (m.type === 'progress') options.onProgress?.(current, m.done);
        else if (m.type === 'checkpoint') {
          try {
            options.onCheckpoint?.(current, { stats: m.stats, kept: m.kept, state: m.state });
          } catch (e) {
            reject(e as Error);
          }
        } else if (m.type === 'error')
          reject(new Error(`MCMC worker (chain ${current}): ${m.message}`));
        else {
          results[current] = { stats: m.stats, kept: m.kept, state: m.state };
          options.onProgress?.(current, Infinity);
          take();
        }
      });
      w.on('error', reject);
    });
  try {
    await Promise.all(Array.from({ length: n }, one));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
