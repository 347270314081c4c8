/**
 * The jobs of the queue as plain JSON data (what travels through Redis), and the flows that group
 * them under one aggregating parent: an ensemble (one training job per member), a sweep (one
 * training job per grid point) and Monte Carlo scoring (one job per shard of an image set).
 * Every job is deterministic by its index and names its result by a key derived from its content
 * (`<flow key>/<index>`), so a job run twice finds its result and does nothing.
 */
import { createHash } from 'node:crypto';
import type { TrainConfig } from '../app/run_config.js';

/** Fields common to every job. */
interface JobBase {
  /** Result key in the store (`<flow key>/<index>`). */
  key: string;
  /** Index of the job in its flow (its seed offset). */
  index: number;
}

/** Train ensemble member `index` (seed `config.seed`), then predict the test and OOD sets. */
export interface MemberJob extends JobBase {
  kind: 'member';
  /** The training configuration (its `out` is replaced by the job's work directory). */
  config: TrainConfig;
  /** Out-of-distribution dataset for the ensemble report. */
  ood: string;
  /** Test images of both sets to predict (default: the training `testLimit`, else all). */
  evalLimit?: number;
}

/** Train one grid point of a sweep. */
export interface SweepJob extends JobBase {
  kind: 'sweep';
  config: TrainConfig;
  /** The grid values of this point. */
  params: Record<string, string | number>;
}

/** Score blocks `[blockStart, blockEnd)` of an image set with `mcSamples` passes per image. */
export interface ShardJob extends JobBase {
  kind: 'shard';
  checkpoint: string;
  dataset: string;
  split: 'train' | 'test';
  dataDir?: string;
  /** Images of the set used (the first `limit`). */
  limit?: number;
  blockSize: number;
  blockStart: number;
  blockEnd: number;
  mcSamples: number;
  /** Base seed; block `b` is sampled with a seed derived from `(seed, b)`. */
  seed: number;
  numBins: number;
}

/** Any job. */
export type JobSpec = MemberJob | SweepJob | ShardJob;

/** How the parent of a flow aggregates its children. */
export type FlowKind = 'ensemble' | 'sweep' | 'score';

/** A flow: children and how their parent aggregates them. */
export interface FlowSpec {
  kind: FlowKind;
  /** Result key of the aggregate (`<prefix>/aggregate`), and the prefix of the children's keys. */
  key: string;
  /** The shared store (a directory). */
  store: string;
  jobs: JobSpec[];
  /** Sweeps: the metric to rank by and its direction. */
  metric?: { name: string; goal: 'min' | 'max' };
  /** Ensembles: calibration bins of the report. */
  numBins?: number;
}

/** Key of an aggregate result. */
export function aggregateKey(flow: FlowSpec): string {
  return `${flow.key}/aggregate`;
}

/**
 * A short content hash (12 hex digits of SHA-256 over canonical JSON), used as the key prefix of
 * a flow: the same request gets the same keys and reuses finished results.
 */
export function contentKey(kind: string, content: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  const h = createHash('sha256')
    .update(JSON.stringify(canon(content)))
    .digest('hex');
  return `${kind}-${h.slice(0, 12)}`;
}

/** Seed of block `block` of a scoring run with base seed `seed` (a 32-bit mix of both). */
export function blockSeed(seed: number, block: number): number {
  return (
    (Math.imul((seed >>> 0) ^ 0x9e3779b9, 2246822519) + Math.imul(block + 1, 3266489917)) >>> 0
  );
}
