/**
 * The BullMQ executor: a flow becomes a BullMQ flow (`FlowProducer`), one child job per job spec
 * and a parent `aggregate` job that a worker runs once every child is done. Children retry with
 * exponential backoff and fail their parent when they run out of attempts. The submitter polls
 * the jobs' states and progress (which survives a Redis restart: commands wait for the
 * reconnection) and reads the aggregate from the shared store.
 */
import type { Queue } from 'bullmq';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { aggregateFlow, type Aggregate } from './aggregate.js';
import { loadBullMQ, pingRedis, RedisSilentError } from './bullmq.js';
import { checkQueueName, connectionOf, QUEUE_NAME } from './redis_url.js';
import type { Executor, FlowProgressFn } from './executor.js';
import type { FlowSpec } from './jobs.js';
import { addBullFlow, childJobIds, parentJobId } from './bull_flow.js';
import { DirResultStore } from './result_store.js';
import { redactedUrl } from './redis_url.js';

/** Options of {@link BullExecutor}. */
export interface BullExecutorOptions {
  /** Queue name (default `deepprob`). */
  queue?: string;
  /** Attempts per job (default 3). */
  attempts?: number;
  /** First retry delay in ms, doubled at every retry (default 2000). */
  backoffMs?: number;
  /** Poll interval of the submitter in ms (default 500). */
  pollMs?: number;
  /** Messages (default stderr). */
  log?: (line: string) => void;
  /**
   * How long the submitter waits for Redis to answer, in ms (default
   * {@link DEFAULT_REDIS_TIMEOUT_MS}): at the start (a host that takes the connection but never
   * answers) and whenever it goes silent later (a crash, a lost network). Past it the run rejects
   * with a {@link DeepProbError} naming the URL and this option (the CLI's `--redis-timeout`);
   * the queued jobs and the stored results are kept, so running the same command again attaches
   * to the flow. A wait `w` that ends at `t` fails when `t - t_last_answer > redisTimeoutMs`.
   */
  redisTimeoutMs?: number;
}

/** Default of {@link BullExecutorOptions.redisTimeoutMs}: 60 s, longer than a Redis restart. */
export const DEFAULT_REDIS_TIMEOUT_MS = 60_000;

/** Progress of a job as workers report it (`job.updateProgress`). */
export interface JobProgress {
  fraction: number;
  /** Process id of the job's process. */
  pid?: number;
  /** Process id of the worker that runs it. */
  worker?: number;
  host?: string;
}

/** The fraction of a job's progress value (a number in [0, 1] or a {@link JobProgress}). */
export function progressFraction(p: unknown): number {
  if (typeof p === 'number') return p;
  const f = (p as Partial<JobProgress> | null)?.fraction;
  return typeof f === 'number' ? f : 0;
}

/** Runs flows through BullMQ on Redis. */
export class BullExecutor implements Executor {
  readonly name: string;
  private queue: Queue | undefined;
  private producer: { disconnect(): Promise<void> } | undefined;
  private readonly log: (line: string) => void;

  /**
   * @param url the Redis URL.
   * @param options queue name, retries, polling.
   */
  constructor(
    private readonly url: string,
    private readonly options: BullExecutorOptions = {},
  ) {
    this.name = redactedUrl(url);
    this.log = options.log ?? ((l) => console.error(l));
    if (options.queue !== undefined) checkQueueName(options.queue, 'queue');
    const t = options.redisTimeoutMs;
    if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)) {
      throw new ArgumentError(
        'redisTimeoutMs',
        `expected a positive finite number of milliseconds, got ${String(t)}`,
      );
    }
  }

  /** The error of a Redis silent for `ms`, naming the URL and the option. */
  private silence(ms: number, what: string, store: string): DeepProbError {
    const s = ms / 1000;
    return new DeepProbError(
      `Redis at ${this.name} did not answer for ${s} s ${what} (--redis-timeout ${s}, ` +
        `redisTimeoutMs ${ms}): gave up waiting; the queued jobs and the results in ${store} ` +
        'are kept: once Redis answers, run the same command again to follow the flow ' +
        '(or raise --redis-timeout)',
    );
  }

  async run(flow: FlowSpec, onProgress: FlowProgressFn = () => {}): Promise<Aggregate> {
    const timeoutMs = this.options.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
    try {
      await pingRedis(this.url, timeoutMs);
    } catch (e) {
      if (e instanceof RedisSilentError) {
        throw this.silence(timeoutMs, 'at the start', flow.store);
      }
      throw e;
    }
    // every later Redis command waits through reconnections: a watchdog bounds the silence
    let lastAnswer = Date.now();
    const answeredNow = (): void => {
      lastAnswer = Date.now();
    };
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setInterval(
        () => {
          if (Date.now() - lastAnswer > timeoutMs) {
            clearInterval(timer);
            reject(this.silence(timeoutMs, 'while following the flow', flow.store));
          }
        },
        Math.min(1000, Math.max(50, timeoutMs / 10)),
      );
    });
    silent.catch(() => {}); // handled by the race below
    try {
      return await Promise.race([this.submitAndFollow(flow, onProgress, answeredNow), silent]);
    } catch (e) {
      // the abandoned commands wait on a dead connection: drop it (close() would wait too)
      if (Date.now() - lastAnswer > timeoutMs) this.abandon();
      throw e;
    } finally {
      clearInterval(timer);
    }
  }

  /** Drop the connection without waiting for Redis (after a timeout). */
  private abandon(): void {
    const q = this.queue;
    this.queue = undefined;
    q?.disconnect().catch(() => {});
    this.producer?.disconnect().catch(() => {});
    this.producer = undefined;
  }

  private async submitAndFollow(
    flow: FlowSpec,
    onProgress: FlowProgressFn,
    answeredNow: () => void,
  ): Promise<Aggregate> {
    const { FlowProducer, Queue } = await loadBullMQ();
    const queueName = this.options.queue ?? QUEUE_NAME;
    const connection = connectionOf(this.url);
    const producer = new FlowProducer({ connection });
    this.producer = producer;
    this.queue ??= new Queue(queueName, { connection });
    const queue = this.queue;
    const parentId = parentJobId(flow);
    const childIds = childJobIds(flow);
    let attached: boolean;
    try {
      attached = await this.attach(queue, parentId);
      answeredNow();
      if (!attached) {
        await addBullFlow(producer, queueName, flow, {
          ...(this.options.attempts !== undefined ? { attempts: this.options.attempts } : {}),
          ...(this.options.backoffMs !== undefined ? { backoffMs: this.options.backoffMs } : {}),
        });
        answeredNow();
      }
    } finally {
      await producer.close();
      if (this.producer === producer) this.producer = undefined;
    }
    const fractions = flow.jobs.map(() => 0);
    // commands wait for Redis to come back (a restart); the outage is said once, and its end
    let outage: string | undefined;
    const onError = (e: Error): void => {
      if (outage !== undefined) return;
      outage = e.message;
      this.log(
        `deepprob: lost the connection to Redis at ${this.name} (${e.message}); waiting for it ` +
          `to come back for up to ${(this.options.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS) / 1000} s ` +
          `(--redis-timeout; the queued jobs and the results in ${flow.store} are kept; Ctrl-C stops waiting)`,
      );
    };
    queue.on('error', onError);
    try {
      return await this.follow(queue, flow, parentId, childIds, fractions, onProgress, () => {
        answeredNow();
        if (outage === undefined) return;
        outage = undefined;
        this.log(`deepprob: Redis at ${this.name} is back; following the flow again`);
      });
    } finally {
      queue.off('error', onError);
    }
  }

  /** Poll the flow until its parent completes (or a job fails for good); `answered` after each poll. */
  private async follow(
    queue: Queue,
    flow: FlowSpec,
    parentId: string,
    childIds: string[],
    fractions: number[],
    onProgress: FlowProgressFn,
    answered: () => void,
  ): Promise<Aggregate> {
    for (;;) {
      const parent = await queue.getJob(parentId);
      answered();
      if (parent === undefined) {
        // commands wait for a reconnection, so Redis answered: the flow it held is gone
        throw new DeepProbError(
          `job ${parentId} (the flow ${flow.key}) is no longer in Redis at ${this.name}: ` +
            'Redis lost it (restarted without persistence, flushed, or evicting keys under ' +
            'maxmemory; run Redis with appendonly yes and maxmemory-policy noeviction); submit ' +
            `again: the results finished so far in ${flow.store} are reused`,
        );
      }
      const state = await parent.getState();
      for (const [i, id] of childIds.entries()) {
        if ((fractions[i] as number) >= 1) continue;
        const child = await queue.getJob(id);
        if (child === undefined) continue;
        const cs = await child.getState();
        if (cs === 'completed') fractions[i] = 1;
        else fractions[i] = Math.min(0.999, progressFraction(child.progress));
        // 'failed' is final (an attempt with retries left goes to delayed or wait); a poison
        // message fails after one attempt of several
        if (cs === 'failed') {
          // read again: the job fetched above may predate its failure (its attempts and reason
          // are written with the state, so a read after seeing 'failed' has them)
          const failed = (await queue.getJob(id)) ?? child;
          const n = failed.attemptsMade;
          throw new DeepProbError(
            `job ${flow.jobs[i]?.key} failed after ${n} attempt${n === 1 ? '' : 's'}: ${failed.failedReason}`,
          );
        }
      }
      onProgress(fractions);
      if (state === 'completed') break;
      if (state === 'failed') {
        throw new DeepProbError(
          `the aggregation of ${flow.key} failed: ${parent?.failedReason ?? ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, this.options.pollMs ?? 500));
    }
    return aggregateFlow(flow, new DirResultStore(flow.store));
  }

  /**
   * Whether the flow with parent `parentId` is already queued and unfinished (then the submitter
   * waits for it, as BullMQ deduplicates a job id); a finished one is removed, children included,
   * so that the flow runs again (a corrupt result is repaired, a failed job retried).
   */
  private async attach(queue: Queue, parentId: string): Promise<boolean> {
    const old = await queue.getJob(parentId);
    if (old === undefined) return false;
    const state = await old.getState();
    if (state === 'completed' || state === 'failed' || state === 'unknown') {
      // (a job that vanished meanwhile needs no removal)
      await old.remove({ removeChildren: true }).catch(() => {});
      return false;
    }
    this.log(
      `deepprob: this flow is already in queue ${queue.name} (job ${parentId}, submitted ` +
        `${new Date(old.timestamp).toISOString()}, ${state}): waiting for that run instead of ` +
        'queueing it again',
    );
    return true;
  }

  async close(): Promise<void> {
    await this.queue?.close();
    this.queue = undefined;
  }
}
