/**
 * Reading jobs of a BullMQ queue for `deepprob queue status | failed | retry` without failing on
 * one poison message: BullMQ parses every job's data as JSON when it reads the job, so one job
 * whose data is not JSON (written past BullMQ, damaged) made a whole listing throw `Unexpected end
 * of JSON input`. Such a job is read with its data replaced by the marker of `requestOf`.
 */
import type { Job, JobType, Queue } from 'bullmq';
import { loadBullMQ } from './bullmq.js';
import type { FlowSpec } from './jobs.js';
import { requestOf, UNREADABLE_DATA } from './job_process.js';

/**
 * The job `id` of `queue`, or undefined when there is none; a job whose data is not JSON comes
 * back with the data `{ [UNREADABLE_DATA]: <the parser's message> }`.
 * @param queue an open queue.
 * @param id the job id.
 */
export async function readJob(queue: Queue, id: string): Promise<Job | undefined> {
  try {
    return await queue.getJob(id);
  } catch (e) {
    const json = await queue.getBackend().getJobData(id);
    if (json === undefined) return undefined;
    const { Job } = await loadBullMQ();
    const data = JSON.stringify({ [UNREADABLE_DATA]: (e as Error).message });
    return Job.fromJSON(queue, { ...json, data }, id);
  }
}

/**
 * The jobs of `queue` in the states `types` (newest first, as `Queue.getJobs`), positions
 * `[start, end]` (`end = -1`: all), each read by {@link readJob}.
 */
export async function readJobs(
  queue: Queue,
  types: JobType[],
  start = 0,
  end = -1,
): Promise<Job[]> {
  const ids = await queue.getRanges(types, start, end);
  const jobs = await Promise.all(ids.map((id) => readJob(queue, id)));
  return jobs.filter((j): j is Job => j !== undefined);
}

/**
 * The flow of a parent job's data; undefined for any other data (a child's, a poison message's,
 * a flow without its kind, key, store or jobs: `requestOf`'s checks).
 */
export function flowOfData(data: unknown): FlowSpec | undefined {
  try {
    const r = requestOf(data);
    return 'flow' in r ? r.flow : undefined;
  } catch {
    return undefined;
  }
}
