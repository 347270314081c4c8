/**
 * `deepprob queue status`: the job counts of the queue (waiting, active, completed, failed, ...)
 * and the progress of every unfinished job.
 */
import { loadBullMQ, pingRedis } from './bullmq.js';
import { readJobs } from './bull_jobs.js';
import { checkQueueName, connectionOf, QUEUE_NAME } from './redis_url.js';
import { progressFraction, type JobProgress } from './bull_executor.js';

/** One unfinished job. */
export interface JobStatus {
  id: string;
  name: string;
  state: string;
  /** Progress in [0, 1]. */
  progress: number;
  /** Process id of the worker that last reported. */
  pid?: number;
  attemptsMade: number;
}

/** What {@link queueStatus} returns. */
export interface QueueStatus {
  queue: string;
  counts: Record<string, number>;
  jobs: JobStatus[];
}

/**
 * Read the counts and unfinished jobs of a queue.
 * @param url the Redis URL.
 * @param queueName the queue (default `deepprob`).
 * @param maxJobs most jobs listed (default 50).
 */
export async function queueStatus(
  url: string,
  queueName = QUEUE_NAME,
  maxJobs = 50,
): Promise<QueueStatus> {
  checkQueueName(queueName);
  await pingRedis(url);
  const { Queue } = await loadBullMQ();
  const queue = new Queue(queueName, { connection: connectionOf(url) });
  try {
    const counts = await queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'waiting-children',
      'completed',
      'failed',
    );
    const jobs: JobStatus[] = [];
    for (const state of ['active', 'waiting', 'delayed', 'waiting-children'] as const) {
      for (const j of await readJobs(queue, [state], 0, maxJobs - 1)) {
        if (jobs.length >= maxJobs) break;
        const p = j.progress as unknown;
        const pid = (p as Partial<JobProgress> | null)?.pid;
        jobs.push({
          id: String(j.id),
          name: j.name,
          state,
          progress: progressFraction(p),
          ...(typeof pid === 'number' ? { pid } : {}),
          attemptsMade: j.attemptsMade,
        });
      }
    }
    return { queue: queueName, counts, jobs };
  } finally {
    await queue.close();
  }
}

/** Lines of a {@link QueueStatus} for the terminal. */
export function formatQueueStatus(s: QueueStatus): string[] {
  const c = s.counts;
  const lines = [
    `queue ${s.queue}: ${c.waiting ?? 0} waiting, ${c.active ?? 0} active, ${c.delayed ?? 0} delayed (retry backoff), ` +
      `${c['waiting-children'] ?? 0} waiting for children, ${c.completed ?? 0} completed, ${c.failed ?? 0} failed`,
  ];
  for (const j of s.jobs) {
    lines.push(
      `  ${j.state.padEnd(16)} ${j.name.padEnd(18)} ${(100 * j.progress).toFixed(0).padStart(3)}%` +
        `  attempts ${j.attemptsMade}${j.pid !== undefined ? `  pid ${j.pid}` : ''}  ${j.id}`,
    );
  }
  return lines;
}
