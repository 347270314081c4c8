/**
 * A flow as BullMQ jobs: the ids (derived from the flow's key and its store, so that a flow
 * submitted twice is one BullMQ flow: BullMQ deduplicates job ids) and the one `FlowProducer.add`
 * of a parent `aggregate` job with one child per job spec, shared by the submitter
 * (`bull_executor.ts`) and `deepprob queue retry` (`failed.ts`).
 */
import type { FlowProducer } from 'bullmq';
import { contentKey, type FlowSpec } from './jobs.js';

/** Retry settings of a flow's jobs. */
export interface FlowJobOptions {
  /** Attempts per job (default 3). */
  attempts?: number;
  /** First retry delay in ms, doubled at every retry (default 2000). */
  backoffMs?: number;
}

/**
 * The BullMQ id prefix of a flow: `<key>.<8 hex of the store path>` (`/` of the key as `.`).
 * Children are `<prefix>.<index>`, the parent `<prefix>.aggregate`.
 */
export function flowRunId(flow: FlowSpec): string {
  return `${flow.key.replace(/\//g, '.')}.${contentKey('store', flow.store).slice(6, 14)}`;
}

/** The parent job's id of a flow. */
export function parentJobId(flow: FlowSpec): string {
  return `${flowRunId(flow)}.aggregate`;
}

/** The child jobs' ids of a flow, in job order. */
export function childJobIds(flow: FlowSpec): string[] {
  const run = flowRunId(flow);
  return flow.jobs.map((j) => `${run}.${j.index}`);
}

/**
 * Add `flow` to `queueName` (children fail their parent when they run out of attempts; finished
 * jobs are kept 7 days).
 */
export async function addBullFlow(
  producer: FlowProducer,
  queueName: string,
  flow: FlowSpec,
  options: FlowJobOptions = {},
): Promise<void> {
  const opts = {
    attempts: options.attempts ?? 3,
    backoff: { type: 'exponential', delay: options.backoffMs ?? 2000 },
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
  const ids = childJobIds(flow);
  await producer.add({
    name: `aggregate-${flow.kind}`,
    queueName,
    data: { flow },
    opts: { ...opts, jobId: parentJobId(flow) },
    children: flow.jobs.map((job, i) => ({
      name: job.kind,
      queueName,
      data: { job, store: flow.store },
      opts: { ...opts, jobId: ids[i] as string, failParentOnFailure: true },
    })),
  });
}
