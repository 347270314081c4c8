/**
 * `deepprob queue failed` and `deepprob queue retry`: the jobs that ran out of attempts (id, name,
 * attempts, the error of the last attempt) and re-queueing their flows. A child that fails its
 * flow fails the parent too, and BullMQ does not move a failed parent back to waiting for a
 * retried child, so a retry re-queues the whole flow under the same job ids (`bull_flow.ts`):
 * the results already in the store are reused, only the missing jobs run.
 */
import type { Job, Queue } from 'bullmq';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { loadBullMQ, pingRedis } from './bullmq.js';
import { addBullFlow, parentJobId } from './bull_flow.js';
import { flowOfData, readJob, readJobs } from './bull_jobs.js';
import type { FlowSpec } from './jobs.js';
import { checkQueueName, connectionOf, QUEUE_NAME } from './redis_url.js';

/** A job that ran out of attempts. */
export interface FailedJob {
  id: string;
  name: string;
  attemptsMade: number;
  attempts: number;
  /** The error of its last attempt. */
  reason: string;
  /** When it failed (ISO time). */
  failedAt?: string;
  /** The flow's parent job id (the job itself for a parent). */
  parent?: string;
}

async function withQueue<T>(
  url: string,
  queueName: string,
  fn: (queue: Queue) => Promise<T>,
): Promise<T> {
  checkQueueName(queueName);
  await pingRedis(url);
  const { Queue } = await loadBullMQ();
  const queue = new Queue(queueName, { connection: connectionOf(url) });
  try {
    return await fn(queue);
  } finally {
    await queue.close();
  }
}

function describeFailed(j: Job): FailedJob {
  const parent = flowOfData(j.data) !== undefined ? j.id : j.parent?.id;
  return {
    id: String(j.id),
    name: j.name,
    attemptsMade: j.attemptsMade,
    attempts: j.opts.attempts ?? 1,
    reason: j.failedReason ?? '',
    ...(j.finishedOn !== undefined ? { failedAt: new Date(j.finishedOn).toISOString() } : {}),
    ...(parent !== undefined ? { parent: String(parent) } : {}),
  };
}

/**
 * The failed jobs of a queue, most recent first.
 * @param url the Redis URL.
 * @param queueName the queue (default `deepprob`).
 * @param maxJobs most jobs listed (default 100).
 */
export function failedJobs(
  url: string,
  queueName = QUEUE_NAME,
  maxJobs = 100,
): Promise<FailedJob[]> {
  return withQueue(url, queueName, async (queue) =>
    (await readJobs(queue, ['failed'], 0, maxJobs - 1)).map(describeFailed),
  );
}

/** Lines of {@link failedJobs} for the terminal. */
export function formatFailedJobs(queueName: string, jobs: readonly FailedJob[]): string[] {
  if (jobs.length === 0) return [`queue ${queueName}: no failed jobs`];
  return [
    `queue ${queueName}: ${jobs.length} failed job${jobs.length > 1 ? 's' : ''}`,
    ...jobs.map(
      (j) =>
        `  ${j.id}  ${j.name}  attempts ${j.attemptsMade}/${j.attempts}` +
        `${j.failedAt !== undefined ? `  ${j.failedAt}` : ''}\n    ${j.reason}`,
    ),
  ];
}

/** A flow that {@link retryFailed} re-queued. */
export interface RetriedFlow {
  /** The flow's key. */
  flow: string;
  /** Its parent job id. */
  parent: string;
  /** Its child jobs. */
  jobs: number;
  /** The failed jobs that led to it. */
  failed: string[];
}

/**
 * Re-queue the flows of failed jobs (each flow once, with its jobs' attempts and backoff).
 * @param url the Redis URL.
 * @param queueName the queue.
 * @param ids failed job ids (children or parents), or `'all'` for every failed job.
 * @throws ArgumentError naming `id` for a job that does not exist or has not failed;
 *   DeepProbError when a job of the flow still runs or the flow's parent is gone.
 */
export async function retryFailed(
  url: string,
  queueName: string,
  ids: readonly string[] | 'all',
): Promise<RetriedFlow[]> {
  if (ids !== 'all' && ids.length === 0) {
    throw new ArgumentError('id', 'expected failed job ids, or --all');
  }
  return withQueue(url, queueName, async (queue) => {
    const jobs: Job[] = [];
    if (ids === 'all') {
      // --all: the failed jobs of flows (a message that is in no flow, such as a poison message
      // added by hand, cannot be re-queued and is left to `queue failed`)
      for (const j of await readJobs(queue, ['failed'])) {
        if (flowOfData(j.data) !== undefined || j.parent !== undefined) jobs.push(j);
      }
    }
    for (const id of ids === 'all' ? [] : ids) {
      const j = await readJob(queue, id);
      if (j === undefined) throw new ArgumentError('id', `no job ${id} in queue ${queueName}`);
      const state = await j.getState();
      if (state !== 'failed') {
        throw new ArgumentError('id', `job ${id} is ${state}, not failed: nothing to retry`);
      }
      jobs.push(j);
    }
    const flows = new Map<string, { flow: FlowSpec; parent: Job; failed: string[] }>();
    for (const j of jobs) {
      const f = describeFailed(j);
      const parent = f.parent === undefined ? undefined : await readJob(queue, f.parent);
      const flow = flowOfData(parent?.data);
      if (f.parent === undefined) {
        throw new DeepProbError(
          `job ${f.id} is in no deepprob flow (a message added to queue ${queueName} by other ` +
            'means?): it cannot be re-queued; deepprob queue failed shows its error',
        );
      }
      if (parent === undefined || flow === undefined) {
        throw new DeepProbError(
          `job ${f.id} has no flow in queue ${queueName} (its parent job is gone): submit its ` +
            'command again (finished results are reused)',
        );
      }
      const entry = flows.get(String(parent.id)) ?? { flow, parent, failed: [] };
      entry.failed.push(f.id);
      flows.set(String(parent.id), entry);
    }
    const { FlowProducer } = await loadBullMQ();
    const producer = new FlowProducer({ connection: connectionOf(url) });
    const out: RetriedFlow[] = [];
    try {
      for (const { flow, parent, failed } of flows.values()) {
        try {
          await parent.remove({ removeChildren: true });
        } catch (e) {
          throw new DeepProbError(
            `cannot re-queue the flow ${flow.key} (job ${String(parent.id)}): ${(e as Error).message}; ` +
              'a job of it may still be running: retry once deepprob queue status shows none active',
          );
        }
        const backoff = parent.opts.backoff;
        await addBullFlow(producer, queueName, flow, {
          attempts: parent.opts.attempts ?? 3,
          ...(typeof backoff === 'object' && typeof backoff.delay === 'number'
            ? { backoffMs: backoff.delay }
            : {}),
        });
        out.push({ flow: flow.key, parent: parentJobId(flow), jobs: flow.jobs.length, failed });
      }
    } finally {
      await producer.close();
    }
    return out;
  });
}
