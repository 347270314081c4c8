/**
 * `deepprob worker` (a queue worker process), `deepprob queue status` (job counts and the
 * progress of unfinished jobs), `deepprob queue failed` (jobs that ran out of attempts, with the
 * error) and `deepprob queue retry` (re-queue their flows).
 */
import type { Command } from 'commander';
import { REDIS_ENV, redisUrlOf } from '../queue/redis_url.js';
import { failedJobs, formatFailedJobs, retryFailed } from '../queue/failed.js';
import { formatQueueStatus, queueStatus } from '../queue/status.js';
import { runWorker } from '../queue/worker.js';
import { ArgumentError } from '../utils/errors.js';
import type { GlobalOptions } from './main.js';
import { positiveInt } from './options.js';
import { addQueueNameOption } from './queue_common.js';

function requireUrl(o: { redis?: string }): string {
  const url = redisUrlOf(o.redis);
  if (url === undefined) {
    throw new ArgumentError(
      '--redis',
      `a Redis URL is needed (or set ${REDIS_ENV}), e.g. redis://127.0.0.1:6379`,
    );
  }
  return url;
}

/** Register `worker`, `queue status`, `queue failed` and `queue retry` on `program`. */
export function register(program: Command): void {
  const worker = program
    .command('worker')
    .description(
      'run jobs of the queue (ensemble members, sweep points, scoring shards) until SIGTERM',
    )
    .option('--redis <url>', `Redis URL (default $${REDIS_ENV})`);
  addQueueNameOption(worker)
    .option('--concurrency <n>', 'jobs run at once, each in its own process', positiveInt, 1)
    .option(
      '--threads <n>',
      'compute threads per worker process (wasm and native paths)',
      positiveInt,
    )
    .option(
      '--lock-ms <n>',
      "job lock; a dead worker's job is retried after it expires",
      positiveInt,
      30000,
    )
    .option('--idle-exit-ms <n>', 'exit after this long without a job', positiveInt)
    .addHelpText(
      'after',
      '\nExample:\n  deepprob --backend wasm worker --redis redis://10.0.0.5:6379 --concurrency 2 --threads 4',
    )
    .action(
      async (o: {
        redis?: string;
        concurrency: number;
        threads?: number;
        queue: string;
        lockMs: number;
        idleExitMs?: number;
      }) => {
        const url = requireUrl(o);
        if (o.threads !== undefined) {
          process.env.DEEPPROB_WASM_THREADS = String(o.threads);
          // the native pool takes at most 16 (more used to switch the native path off)
          process.env.DEEPPROB_NATIVE_THREADS = String(Math.min(16, o.threads));
        }
        const backend = program.opts<GlobalOptions>().backend;
        if (backend !== undefined) process.env.DEEPPROB_BACKEND = backend; // read by the job processes
        await runWorker({
          url,
          concurrency: o.concurrency,
          queue: o.queue,
          lockMs: o.lockMs,
          ...(o.idleExitMs !== undefined ? { idleExitMs: o.idleExitMs } : {}),
        });
      },
    );
  const queue = program.command('queue').description('inspect the job queue');
  addQueueNameOption(
    queue
      .command('status')
      .description('waiting / active / completed / failed counts and per-job progress')
      .option('--redis <url>', `Redis URL (default $${REDIS_ENV})`),
  )
    .option('--json', 'print as JSON')
    .action(async (o: { redis?: string; queue: string; json?: boolean }) => {
      const s = await queueStatus(requireUrl(o), o.queue);
      if (o.json === true) console.log(JSON.stringify(s));
      else for (const l of formatQueueStatus(s)) console.log(l);
    });
  addQueueNameOption(
    queue
      .command('failed')
      .description(
        'jobs that failed (out of attempts, or poison messages at once): id, name, attempts, the last error',
      )
      .option('--redis <url>', `Redis URL (default $${REDIS_ENV})`),
  )
    .option('--json', 'print as JSON')
    .action(async (o: { redis?: string; queue: string; json?: boolean }) => {
      const jobs = await failedJobs(requireUrl(o), o.queue);
      if (o.json === true) console.log(JSON.stringify({ queue: o.queue, failed: jobs }));
      else for (const l of formatFailedJobs(o.queue, jobs)) console.log(l);
    });
  addQueueNameOption(
    queue
      .command('retry')
      .description(
        're-queue the flows of failed jobs (finished results are reused; only the missing jobs run)',
      )
      .argument('[ids...]', 'failed job ids (from deepprob queue failed)')
      .option('--all', 'every failed job')
      .option('--redis <url>', `Redis URL (default $${REDIS_ENV})`),
  )
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nThe submitter of a flow exits when the flow fails; after a retry, run the same command again to wait for its aggregate (it attaches to the queued flow).',
    )
    .action(
      async (
        ids: string[],
        o: { redis?: string; queue: string; all?: boolean; json?: boolean },
      ) => {
        if (o.all === true && ids.length > 0) {
          throw new ArgumentError('--all', `expected either job ids or --all, got both`);
        }
        const retried = await retryFailed(requireUrl(o), o.queue, o.all === true ? 'all' : ids);
        if (o.json === true) {
          console.log(JSON.stringify({ queue: o.queue, retried }));
          return;
        }
        if (retried.length === 0) console.log(`queue ${o.queue}: no failed jobs`);
        for (const r of retried) {
          console.log(
            `re-queued flow ${r.flow} (${r.jobs} jobs, parent ${r.parent}) for failed job${r.failed.length > 1 ? 's' : ''} ${r.failed.join(', ')}`,
          );
        }
      },
    );
}
