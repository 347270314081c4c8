/**
 * A queue worker (`deepprob worker`): takes up to `concurrency` jobs at a time from BullMQ and
 * runs each in its own child process ({@link runInChild}: {@link runJob}, or a flow's
 * aggregation), reporting progress with `job.updateProgress`. On SIGTERM/SIGINT it takes no new
 * job, lets the running ones finish, and exits; a second signal kills the job processes and
 * releases their jobs (they stall and another worker takes them once the lock expires).
 * A poison message (data failing `requestOf` or the job's `checkJob`) fails at once, as BullMQ's
 * `UnrecoverableError`, instead of using all its attempts.
 */
import type { ChildProcess } from 'node:child_process';
import type { Job, JobJson } from 'bullmq';
import { lockHost } from '../app/run_lock.js';
import { ArgumentError } from '../utils/errors.js';
import { loadBullMQ, pingRedis } from './bullmq.js';
import { checkQueueName, connectionOf, QUEUE_NAME } from './redis_url.js';
import { PoisonMessageError, requestOf, runInChild, UNREADABLE_DATA } from './job_process.js';
import { redactedUrl } from './redis_url.js';

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** Redis URL. */
  url: string;
  /** Jobs run at once, each in its own process (default 1). */
  concurrency?: number;
  /** Queue name (default `deepprob`). */
  queue?: string;
  /** Lock of an active job in ms: a job whose worker stops renewing it stalls after this (default 30000). */
  lockMs?: number;
  /** How often stalled jobs are looked for, ms (default lockMs / 2). */
  stalledMs?: number;
  /** Exit once idle for this many ms (default: run until signalled). */
  idleExitMs?: number;
  /** Messages (default stderr). */
  log?: (line: string) => void;
}

function checkPositiveInt(v: number | undefined, name: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v <= 0)) {
    throw new ArgumentError(name, `expected a positive integer, got ${v}`);
  }
}

/**
 * Run a worker until it is signalled (or idle for `idleExitMs`).
 * @param options the Redis URL, processes, locks.
 * @throws ArgumentError naming the option; DeepProbError when Redis cannot be reached.
 */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const log = options.log ?? ((l: string) => console.error(l));
  checkPositiveInt(options.concurrency, '--concurrency');
  checkPositiveInt(options.lockMs, '--lock-ms');
  checkPositiveInt(options.stalledMs, '--stalled-ms');
  checkPositiveInt(options.idleExitMs, '--idle-exit-ms');
  if (options.queue !== undefined) checkQueueName(options.queue);
  await pingRedis(options.url);
  const { Worker, UnrecoverableError } = await loadBullMQ();
  const lockMs = options.lockMs ?? 30000;
  const host = lockHost(); // DEEPPROB_HOST_ID, else the host name: as the job's work-dir lock
  let lastActive = Date.now();
  let busy = 0;
  const children = new Set<ChildProcess>();
  // BullMQ parses a job's data before the processor sees it; data that is not JSON threw there
  // (the job left active until it stalled, the log without its id), so it is handed to the
  // processor as a marker that fails the attempt naming the job (`requestOf`)
  class SafeWorker extends Worker {
    protected override createJob(json: JobJson, jobId: string): Job {
      let unreadable: string | undefined;
      try {
        JSON.parse(json.data === '' ? '{}' : json.data);
      } catch (e) {
        unreadable = (e as Error).message;
      }
      return super.createJob(
        unreadable === undefined
          ? json
          : { ...json, data: JSON.stringify({ [UNREADABLE_DATA]: unreadable }) },
        jobId,
      );
    }
  }
  const worker = new SafeWorker(
    options.queue ?? QUEUE_NAME,
    async (job) => {
      busy++;
      try {
        const data = job.data as { flow?: { key?: unknown } } | null;
        const flowKey =
          data !== null && typeof data === 'object' && data.flow !== undefined
            ? data.flow?.key
            : undefined;
        const what = flowKey !== undefined ? `aggregation of ${String(flowKey)}` : `job ${job.id}`;
        const attempt = `attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}`;
        log(`deepprob worker ${process.pid}: ${what} (${attempt})`);
        let child: ChildProcess | undefined;
        try {
          const result = await runInChild(
            requestOf(job.data),
            (fraction) => {
              job
                .updateProgress({
                  fraction,
                  pid: child?.pid ?? process.pid,
                  worker: process.pid,
                  host,
                })
                .catch(() => {});
            },
            (c) => {
              child = c;
              children.add(c);
            },
          );
          log(`deepprob worker ${process.pid}: done ${what}`);
          return result;
        } catch (e) {
          // a message that fails its own checks can never succeed: fail it now, not after
          // every attempt (BullMQ moves an UnrecoverableError's job to failed at once)
          if (e instanceof ArgumentError || e instanceof PoisonMessageError) {
            log(
              `deepprob worker ${process.pid}: ${what} failed (${attempt}): ${(e as Error).message}; ` +
                'a poison message (no attempt can succeed): failed now without retries ' +
                '(deepprob queue failed lists it)',
            );
            throw new UnrecoverableError(`${(e as Error).message}`);
          }
          const left = (job.opts.attempts ?? 1) - (job.attemptsMade + 1);
          log(
            `deepprob worker ${process.pid}: ${what} failed (${attempt}): ${(e as Error).message}; ` +
              (left > 0
                ? `it will be retried (${left} attempt${left > 1 ? 's' : ''} left)`
                : 'no attempts left (deepprob queue failed lists it, deepprob queue retry re-queues it)'),
          );
          throw e;
        } finally {
          if (child !== undefined) children.delete(child);
        }
      } finally {
        busy--;
        lastActive = Date.now();
      }
    },
    {
      connection: connectionOf(options.url),
      concurrency: options.concurrency ?? 1,
      lockDuration: lockMs,
      stalledInterval: options.stalledMs ?? Math.max(500, Math.floor(lockMs / 2)),
      maxStalledCount: 2,
    },
  );
  // a lost Redis makes ioredis retry every few seconds, each retry an 'error': said once a minute
  let lastError = '';
  let lastErrorAt = 0;
  worker.on('error', (e) => {
    const now = Date.now();
    if (e.message === lastError && now - lastErrorAt < 60_000) return;
    lastError = e.message;
    lastErrorAt = now;
    log(
      /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|Connection is closed/.test(e.message)
        ? `deepprob worker ${process.pid}: cannot reach Redis at ${redactedUrl(options.url)} (${e.message}); ` +
            'retrying (a running job goes on; its result is stored when it ends)'
        : `deepprob worker ${process.pid}: ${e.message}`,
    );
  });
  log(
    `deepprob worker ${process.pid} on ${redactedUrl(options.url)} (queue ${options.queue ?? QUEUE_NAME})`,
  );
  await new Promise<void>((resolveDone) => {
    let closing = false;
    const stop = (force: boolean): void => {
      if (closing && !force) return;
      closing = true;
      log(
        force
          ? `deepprob worker ${process.pid}: releasing the current job now`
          : `deepprob worker ${process.pid}: finishing the current job, then exiting (signal again to release it)`,
      );
      if (force) for (const c of children) c.kill('SIGKILL');
      worker.close(force).then(resolveDone, resolveDone);
    };
    let signals = 0;
    const onSignal = (): void => {
      signals++;
      stop(signals > 1);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    if (options.idleExitMs !== undefined) {
      const idle = options.idleExitMs;
      const t = setInterval(() => {
        if (busy === 0 && Date.now() - lastActive > idle) {
          clearInterval(t);
          stop(false);
        }
      }, 250);
    }
  });
}
