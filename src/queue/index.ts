/**
 * The job queue (Node): ensembles, sweeps and Monte Carlo scoring as flows of deterministic,
 * idempotent jobs with checksummed results, run in-process or through BullMQ workers.
 */
export {
  type ResultStore,
  type StoredResult,
  type ResultState,
  RESULT_FILE,
  CorruptResultError,
  DirResultStore,
} from './result_store.js';
export {
  type MemberJob,
  type SweepJob,
  type ShardJob,
  type JobSpec,
  type FlowKind,
  type FlowSpec,
  aggregateKey,
  contentKey,
  blockSeed,
} from './jobs.js';
export { type BlockStats, type ScoreMetrics, blockStats, mergeBlockStats } from './score_stats.js';
export {
  type SweepGrid,
  type GridPoint,
  SWEEPABLE,
  SWEEP_METRICS,
  parseSweepGrid,
  readSweepGrid,
  gridPoints,
} from './sweep_grid.js';
export {
  type EnsembleFlowOptions,
  type ScoreFlowOptions,
  ensembleFlow,
  sweepFlow,
  scoreFlow,
} from './flows.js';
export { type JobOutcome, runJob, checkJob } from './run_job.js';
export {
  type Aggregate,
  type EnsembleAggregate,
  type SweepAggregate,
  type SweepRow,
  type ScoreAggregate,
  aggregateFlow,
} from './aggregate.js';
export { type Executor, type FlowProgressFn, LocalExecutor, flowProgressBar } from './executor.js';
export { type BullExecutorOptions, type JobProgress, BullExecutor } from './bull_executor.js';
export { type WorkerOptions, runWorker } from './worker.js';
export { type QueueStatus, type JobStatus, queueStatus, formatQueueStatus } from './status.js';
export {
  type FailedJob,
  type RetriedFlow,
  failedJobs,
  formatFailedJobs,
  retryFailed,
} from './failed.js';
export { REDIS_ENV, QUEUE_NAME, redisUrlOf } from './redis_url.js';

// bounded waits for a silent Redis (the submitter's --redis-timeout)
export { DEFAULT_REDIS_TIMEOUT_MS } from './bull_executor.js';

// poison messages fail at once (BullMQ's UnrecoverableError), not after every attempt
export { PoisonMessageError } from './job_process.js';
