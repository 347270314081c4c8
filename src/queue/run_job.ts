/**
 * Run one job of the queue, idempotently: a job whose key holds a valid, checksummed result is not
 * run again; a corrupt result is reported (naming the file) and the job runs again.
 */
import { ArgumentError } from '../utils/errors.js';
import type { JobSpec } from './jobs.js';
import type { ResultStore } from './result_store.js';
import { runShardJob } from './shard_job.js';
import { runMemberJob, runSweepJob, type ProgressFn } from './train_jobs.js';

/** What {@link runJob} did. */
export interface JobOutcome {
  key: string;
  /** True when a valid result was already stored (nothing ran). */
  skipped: boolean;
  /** The problem of a corrupt result that was replaced. */
  repaired?: string;
  /** The stored result. */
  value: unknown;
}

/** Check the shape of a job read from the queue. */
export function checkJob(job: unknown): JobSpec {
  const j = job as Partial<JobSpec> | null;
  if (
    j === null ||
    typeof j !== 'object' ||
    typeof j.key !== 'string' ||
    !Number.isInteger(j.index)
  ) {
    throw new ArgumentError('job', `expected a job with key and index, got ${JSON.stringify(job)}`);
  }
  if (j.kind !== 'member' && j.kind !== 'sweep' && j.kind !== 'shard') {
    throw new ArgumentError('job.kind', `expected member | sweep | shard, got ${String(j.kind)}`);
  }
  return j as JobSpec;
}

/**
 * Run `job` unless its result is stored.
 *
 * @param job the job.
 * @param store the shared result store.
 * @param report progress in [0, 1].
 * @param log messages (a replaced corrupt result).
 */
export async function runJob(
  job: JobSpec,
  store: ResultStore,
  report: ProgressFn = () => {},
  log: (line: string) => void = (l) => console.error(l),
): Promise<JobOutcome> {
  checkJob(job);
  const state = store.check(job.key);
  if (state.state === 'valid') {
    report(1);
    return { key: job.key, skipped: true, value: store.get(job.key)?.value };
  }
  let repaired: string | undefined;
  if (state.state === 'corrupt') {
    repaired = state.problem;
    log(`deepprob: result of job ${job.key} is corrupt (${state.problem}); running the job again`);
    store.remove(job.key);
  }
  const value =
    job.kind === 'member'
      ? await runMemberJob(job, store, report)
      : job.kind === 'sweep'
        ? await runSweepJob(job, store, report)
        : await runShardJob(job, store, report);
  report(1);
  return { key: job.key, skipped: false, ...(repaired !== undefined ? { repaired } : {}), value };
}
