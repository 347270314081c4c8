/**
 * Executors of a flow: the in-process {@link LocalExecutor} (the embedded default, no Redis) and
 * the interface that the BullMQ executor (`bull_executor.ts`) shares, so that both run the very
 * same jobs ({@link runJob}) and the same aggregation ({@link aggregateFlow}); plus the submitter's
 * progress bar.
 */
import cliProgress from 'cli-progress';
import { aggregateFlow, type Aggregate } from './aggregate.js';
import type { FlowSpec } from './jobs.js';
import { DirResultStore } from './result_store.js';
import { runJob } from './run_job.js';

/** Progress of a flow: one fraction in [0, 1] per child job. */
export type FlowProgressFn = (fractions: readonly number[]) => void;

/** Runs a flow to its aggregate. */
export interface Executor {
  /** A description for messages (`in-process`, `redis://host:port`). */
  readonly name: string;
  /** Run every child (skipping stored results) and the aggregation. */
  run(flow: FlowSpec, onProgress?: FlowProgressFn): Promise<Aggregate>;
  /** Release connections. */
  close(): Promise<void>;
}

/** The in-process executor: the children one after the other, then the parent's aggregation. */
export class LocalExecutor implements Executor {
  readonly name = 'in-process';

  /** @param log messages of the jobs (a replaced corrupt result). */
  constructor(private readonly log: (line: string) => void = (l) => console.error(l)) {}

  async run(flow: FlowSpec, onProgress: FlowProgressFn = () => {}): Promise<Aggregate> {
    const store = new DirResultStore(flow.store);
    const fractions = flow.jobs.map(() => 0);
    for (const [i, job] of flow.jobs.entries()) {
      await runJob(
        job,
        store,
        (f) => {
          fractions[i] = f;
          onProgress(fractions);
        },
        this.log,
      );
    }
    return aggregateFlow(flow, store);
  }

  async close(): Promise<void> {}
}

/**
 * A progress bar of a flow on stderr (plain periodic lines when stderr is not a terminal).
 * @param label what runs (e.g. `ensemble of 5`).
 * @param jobs number of child jobs.
 * @returns the progress callback and `stop()`.
 */
export function flowProgressBar(
  label: string,
  jobs: number,
): { update: FlowProgressFn; stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      format: '{label} |{bar}| {percentage}% | {done}/{jobs} jobs done | ETA {eta_formatted}',
      barsize: 24,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 10000,
      hideCursor: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { label, done: 0, jobs });
  return {
    update(fractions) {
      const sum = fractions.reduce((a, b) => a + b, 0);
      bar.update(Math.round((1000 * sum) / Math.max(1, jobs)), {
        label,
        done: fractions.filter((f) => f >= 1).length,
        jobs,
      });
    },
    stop() {
      bar.stop();
    },
  };
}
