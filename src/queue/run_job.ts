/**
 * Run one job of the queue, idempotently: a job whose key holds a valid, checksummed result is not
 * run again; a corrupt result is reported (naming the file) and the job runs again.
 */
import { checkConfig, type TrainConfig } from '../app/run_config.js';
import { ArgumentError } from '../utils/errors.js';
import type { JobSpec } from './jobs.js';
import { checkKey, type ResultStore } from './result_store.js';
import { preview } from './preview.js';
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

/**
 * Check the shape of a job read from the queue (a poison message: not an object, an unknown kind,
 * a missing or mistyped field), before any work starts or anything is written.
 * @param job what the queue delivered.
 * @returns the job.
 * @throws ArgumentError naming the field (`job`, `job.kind`, `job.config: lr: ...`).
 */
export function checkJob(job: unknown): JobSpec {
  const j = job as Record<string, unknown> | null;
  if (
    j === null ||
    typeof j !== 'object' ||
    Array.isArray(j) ||
    typeof j.key !== 'string' ||
    !Number.isInteger(j.index) ||
    (j.index as number) < 0
  ) {
    throw new ArgumentError(
      'job',
      `expected a job with key and index (an integer >= 0), got ${preview(job)}`,
    );
  }
  try {
    checkKey(j.key);
  } catch (e) {
    throw new ArgumentError('job.key', (e as Error).message.replace(/^key: /, ''));
  }
  if (j.kind !== 'member' && j.kind !== 'sweep' && j.kind !== 'shard') {
    throw new ArgumentError('job.kind', `expected member | sweep | shard, got ${preview(j.kind)}`);
  }
  const field = (name: string, ok: (v: unknown) => boolean, what: string): void => {
    if (!ok(j[name])) {
      throw new ArgumentError(`job.${name}`, `expected ${what}, got ${preview(j[name])}`);
    }
  };
  const isObject = (v: unknown): boolean =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  const isString = (v: unknown): boolean => typeof v === 'string' && v !== '';
  const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
  const isIndex = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  if (j.kind === 'shard') {
    field('checkpoint', isString, 'a checkpoint directory');
    field('dataset', isString, 'a dataset name');
    field('split', (v) => v === 'train' || v === 'test', 'train or test');
    field('blockSize', isCount, 'a positive integer');
    field('blockStart', isIndex, 'an integer >= 0');
    field(
      'blockEnd',
      (v) => isIndex(v) && (v as number) > (j.blockStart as number),
      'an integer > blockStart',
    );
    field('mcSamples', isCount, 'a positive integer');
    field('seed', (v) => Number.isInteger(v) && (v as number) >= 0, 'an integer seed');
    field('numBins', isCount, 'a positive integer');
    field('dataDir', (v) => v === undefined || isString(v), 'a directory path');
    field('limit', (v) => v === undefined || isCount(v), 'a positive integer');
    return j as unknown as JobSpec;
  }
  field('config', isObject, 'a training configuration (an object)');
  const c = j.config as Record<string, unknown>;
  try {
    for (const k of ['model', 'dataset'] as const) {
      if (typeof c[k] !== 'string') {
        throw new ArgumentError(k, `expected a name, got ${preview(c[k])}`);
      }
    }
    checkConfig({ ...(c as unknown as TrainConfig), out: '.' });
  } catch (e) {
    throw new ArgumentError('job.config', (e as Error).message);
  }
  if (j.kind === 'sweep') field('params', isObject, 'the grid values of the point (an object)');
  else {
    field('ood', isString, 'an out-of-distribution dataset name');
    field('evalLimit', (v) => v === undefined || isCount(v), 'a positive integer');
  }
  return j as unknown as JobSpec;
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
