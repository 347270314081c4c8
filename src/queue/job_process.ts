/**
 * Each queue job runs in a child process of its worker (`runInChild`), so that the worker's event
 * loop stays free to renew the job's lock, report progress and handle signals while tfjs computes
 * (a blocked loop would let the lock expire and the job be taken twice), and so that a job starts
 * from a clean tfjs state. The child exits when its worker dies (the IPC channel closes) and
 * ignores SIGINT/SIGTERM (the worker decides: finish, or kill it to release the job).
 *
 * This file is also the child's entry point (`fork`ed with the worker's `execArgv`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import type { FlowSpec, JobSpec } from './jobs.js';
import { preview } from './preview.js';

/** What the worker sends its child. */
export type ChildRequest = { job: unknown; store: string } | { flow: FlowSpec };

/** What the child sends back. */
type ChildMessage =
  | { type: 'progress'; fraction: number }
  | { type: 'done'; result: unknown }
  | { type: 'error'; message: string; poison?: boolean };

/**
 * A queue message that can never succeed (a poison message): its data fails the checks of
 * {@link requestOf} or of the job's own `checkJob`. Retrying it cannot help (the data does not
 * change between attempts), so the worker fails it at once, as BullMQ's `UnrecoverableError`:
 * attempts used = 1 whatever `--attempts` says, where a failure of the run itself (a missing
 * dataset, a full disk) is retried with backoff.
 */
export class PoisonMessageError extends DeepProbError {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

const self = fileURLToPath(import.meta.url);

/** Key of the data a worker gives a message whose stored data is not JSON (see {@link requestOf}). */
export const UNREADABLE_DATA = '__deepprobUnreadableData';

/**
 * The child request of a queue message's data, checked before a process is started for it: a
 * poison message (not an object, data that was not JSON, no or a relative store, a flow without
 * its key, kind, store and jobs) fails its attempt with a message naming what is wrong, instead of
 * running somewhere unexpected (a missing store was the folder `undefined` in the worker's
 * directory). The job itself is checked in the child by `checkJob`.
 * @param data the message's data.
 * @throws ArgumentError naming `data`, `data.store` or `data.flow`.
 */
export function requestOf(data: unknown): ChildRequest {
  const d = data as Record<string, unknown> | null;
  if (d === null || typeof d !== 'object' || Array.isArray(d)) {
    throw new ArgumentError(
      'data',
      `expected a queue message {job, store} or {flow}, got ${preview(data)}`,
    );
  }
  if (typeof d[UNREADABLE_DATA] === 'string') {
    throw new ArgumentError(
      'data',
      `the message's data is not JSON (${d[UNREADABLE_DATA]}): it was written past BullMQ or damaged`,
    );
  }
  const absolute = (v: unknown): boolean => typeof v === 'string' && v !== '' && isAbsolute(v);
  if (d.flow !== undefined) {
    const f = d.flow as Record<string, unknown> | null;
    const ok =
      f !== null &&
      typeof f === 'object' &&
      (f.kind === 'ensemble' || f.kind === 'sweep' || f.kind === 'score') &&
      typeof f.key === 'string' &&
      absolute(f.store) &&
      Array.isArray(f.jobs) &&
      f.jobs.length > 0;
    if (!ok) {
      throw new ArgumentError(
        'data.flow',
        `expected a flow {kind, key, store (an absolute path), jobs}, got ${preview(f)}`,
      );
    }
    return { flow: f as unknown as FlowSpec };
  }
  if (!absolute(d.store)) {
    throw new ArgumentError(
      'data.store',
      `expected the absolute path of the shared result store, got ${preview(d.store)}`,
    );
  }
  if (d.job === undefined) throw new ArgumentError('data.job', 'expected a job, got nothing');
  return { job: d.job, store: d.store as string };
}

/**
 * Run a job (or a flow's aggregation) in a child process.
 * @param request the job and its store, or the flow to aggregate.
 * @param onProgress progress in [0, 1].
 * @param onChild receives the child (so that a forced stop can kill it).
 * @returns what the child's job returned.
 * @throws DeepProbError with the child's message when the job failed or the child died;
 *   {@link PoisonMessageError} when the job's `checkJob` refused the message.
 */
export function runInChild(
  request: ChildRequest,
  onProgress: (fraction: number) => void,
  onChild: (child: ChildProcess) => void = () => {},
): Promise<unknown> {
  const entry = join(dirname(self), `job_process${extname(self)}`);
  const child = fork(entry, ['--deepprob-job-child'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  onChild(child);
  return new Promise((resolveJob, reject) => {
    let settled = false;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'progress') onProgress(m.fraction);
      else if (m.type === 'done') {
        settled = true;
        resolveJob(m.result);
      } else {
        settled = true;
        reject(
          m.poison === true ? new PoisonMessageError(m.message) : new DeepProbError(m.message),
        );
      }
    });
    child.on('exit', (code, signal) => {
      if (!settled)
        reject(new DeepProbError(`the job process exited (${signal ?? code}) before finishing`));
    });
    child.send(request);
  });
}

/** The child's side: run one request and exit. */
async function childMain(): Promise<void> {
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  process.on('disconnect', () => process.exit(1));
  const request = await new Promise<ChildRequest>((r) =>
    process.once('message', (m) => r(m as ChildRequest)),
  );
  const send = (m: ChildMessage): Promise<void> =>
    new Promise((r) => {
      if (process.send === undefined) r();
      else process.send(m, () => r());
    });
  try {
    await import('../backend/tfjs_check.js');
    // the message is checked before the backend starts: a poison message fails in moments
    let job: JobSpec | undefined;
    if (!('flow' in request)) {
      const { checkJob } = await import('./run_job.js');
      try {
        job = checkJob(request.job);
      } catch (e) {
        // the message itself is wrong: no attempt can succeed
        await send({ type: 'error', message: (e as Error).message, poison: true });
        process.disconnect?.();
        return;
      }
    }
    const { ready } = await import('../backend/ready.js');
    await ready(); // DEEPPROB_BACKEND (set by the worker's --backend) picks the backend
    const { DirResultStore } = await import('./result_store.js');
    if ('flow' in request) {
      const { aggregateFlow } = await import('./aggregate.js');
      const agg = await aggregateFlow(request.flow, new DirResultStore(request.flow.store));
      await send({ type: 'done', result: { kind: agg.kind } });
    } else {
      const { runJob } = await import('./run_job.js');
      const out = await runJob(job as JobSpec, new DirResultStore(request.store), (fraction) => {
        void send({ type: 'progress', fraction });
      });
      await send({ type: 'done', result: { key: out.key, skipped: out.skipped } });
    }
  } catch (e) {
    await send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
  process.disconnect?.();
}

if (
  process.argv.includes('--deepprob-job-child') &&
  basename(process.argv[1] ?? '').startsWith('job_process')
) {
  void childMain();
}
