/**
 * Building the flows of the submit commands from their options: an ensemble of `members`
 * training jobs (member `i` seeded `seed + i`, as `deepprob train --ensemble`), a sweep over a
 * grid, and Monte Carlo scoring cut into `shards` jobs of whole blocks. Options are checked here,
 * before anything is queued.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkConfig, type TrainConfig } from '../app/run_config.js';
import { checkRange, OPTION_RANGES } from '../app/option_ranges.js';
import { resolveCheckpoint } from '../train/checkpoint.js';
import { DATASETS } from '../data/files.js';
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import { contentKey, type FlowSpec, type MemberJob, type ShardJob, type SweepJob } from './jobs.js';
import { scoringSet } from './shard_job.js';
import { checkSweepGrid, gridPoints, type SweepGrid } from './sweep_grid.js';

function positiveInt(v: number | undefined, name: string): void {
  if (v !== undefined && (!Number.isInteger(v) || v <= 0)) {
    throw new ArgumentError(name, `expected a positive integer, got ${v}`);
  }
}

/** The shared store of a flow: a non-empty directory path (`resolve('')` is the cwd). */
function checkStore(store: unknown): void {
  if (typeof store !== 'string' || store.trim() === '') {
    throw new ArgumentError(
      'store',
      `expected a directory path (the shared result store), got ${JSON.stringify(store)}`,
    );
  }
}

/** Calibration bins of a report or of scoring: an integer >= 1. */
function checkBins(v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
    throw new ArgumentError('numBins', `expected a positive integer number of bins, got ${v}`);
  }
}

const ENSEMBLE_KEYS = ['config', 'members', 'store', 'ood', 'evalLimit', 'numBins'] as const;
const SCORE_KEYS = [
  'checkpoint',
  'dataset',
  'split',
  'dataDir',
  'limit',
  'shards',
  'mcSamples',
  'blockSize',
  'seed',
  'numBins',
  'store',
] as const;

/** Options of {@link ensembleFlow}. */
export interface EnsembleFlowOptions {
  /** Training configuration of member 0 (`out` is not used). */
  config: Omit<TrainConfig, 'out'>;
  members: number;
  /** The shared store directory. */
  store: string;
  /** OOD dataset of the report (default `fashion-mnist`). */
  ood?: string;
  /** Test images predicted per set (default: the training test limit, else all). */
  evalLimit?: number;
  numBins?: number;
}

/** The flow of a deep ensemble. */
export function ensembleFlow(o: EnsembleFlowOptions): FlowSpec {
  if (o === null || typeof o !== 'object') {
    throw new ArgumentError('options', `expected the options of an ensemble, got ${String(o)}`);
  }
  checkOptionKeys(o, ENSEMBLE_KEYS, 'ensembleFlow');
  if (o.members === undefined) throw new ArgumentError('--members', 'expected a number of members');
  positiveInt(o.members, '--members');
  positiveInt(o.evalLimit, '--eval-limit');
  checkStore(o.store);
  checkBins(o.numBins);
  if (o.ood !== undefined && !(DATASETS as readonly string[]).includes(o.ood)) {
    throw new ArgumentError(
      '--ood',
      `expected one of ${DATASETS.join(', ')}, got ${JSON.stringify(o.ood)}`,
    );
  }
  if (o.members < 2) throw new ArgumentError('--members', `expected at least 2, got ${o.members}`);
  checkRange('ensemble', o.members, '--members');
  checkConfig({ ...o.config, out: '.' });
  // member i trains with seed + i: the last one's seed must be a seed too (else it alone fails,
  // after the others trained)
  const lastSeed = o.config.seed + o.members - 1;
  if (lastSeed > OPTION_RANGES.seed.max) {
    throw new ArgumentError(
      '--seed',
      `member ${o.members - 1} would be seeded ${o.config.seed} + ${o.members - 1} = ${lastSeed}, ` +
        `past the largest seed ${OPTION_RANGES.seed.max}; expected --seed <= ${OPTION_RANGES.seed.max - o.members + 1}`,
    );
  }
  const ood = o.ood ?? 'fashion-mnist';
  const key = contentKey('ensemble', {
    config: o.config,
    members: o.members,
    ood,
    evalLimit: o.evalLimit ?? null,
  });
  const jobs: MemberJob[] = Array.from({ length: o.members }, (_, index) => ({
    kind: 'member',
    key: `${key}/member-${index}`,
    index,
    config: { ...o.config, seed: o.config.seed + index, out: '.' },
    ood,
    ...(o.evalLimit !== undefined ? { evalLimit: o.evalLimit } : {}),
  }));
  return { kind: 'ensemble', key, store: resolve(o.store), jobs, numBins: o.numBins ?? 15 };
}

/** The flow of a sweep. */
export function sweepFlow(grid: SweepGrid, store: string): FlowSpec {
  checkSweepGrid(grid);
  checkStore(store);
  const key = contentKey('sweep', { base: grid.base, axes: grid.axes });
  const jobs: SweepJob[] = gridPoints(grid).map((p) => ({
    kind: 'sweep',
    key: `${key}/point-${p.index}`,
    index: p.index,
    params: p.params,
    config: { ...p.config, out: '.' },
  }));
  return { kind: 'sweep', key, store: resolve(store), jobs, metric: grid.metric };
}

/** Options of {@link scoreFlow}. */
export interface ScoreFlowOptions {
  checkpoint: string;
  /** Dataset name. */
  dataset: string;
  split?: 'train' | 'test';
  dataDir?: string;
  limit?: number;
  shards: number;
  mcSamples: number;
  /** Images per seeded block (default 500). */
  blockSize?: number;
  seed?: number;
  numBins?: number;
  store: string;
}

/** SHA-256 of a checkpoint's manifest (its identity), or its path when it has none. */
function checkpointIdentity(dir: string): string {
  const ck = resolveCheckpoint(dir);
  const m = join(ck, 'manifest.json');
  return existsSync(m) ? readFileSync(m, 'utf8') : resolve(ck);
}

/** The flow of Monte Carlo scoring. */
export function scoreFlow(o: ScoreFlowOptions): FlowSpec {
  if (o === null || typeof o !== 'object') {
    throw new ArgumentError('options', `expected the options of a scoring run, got ${String(o)}`);
  }
  checkOptionKeys(o, SCORE_KEYS, 'scoreFlow');
  if (o.shards === undefined) throw new ArgumentError('--shards', 'expected a number of shards');
  if (o.mcSamples === undefined) {
    throw new ArgumentError('--mc-samples', 'expected a number of Monte Carlo samples');
  }
  positiveInt(o.shards, '--shards');
  positiveInt(o.mcSamples, '--mc-samples');
  positiveInt(o.blockSize, '--block-size');
  positiveInt(o.limit, '--limit');
  checkStore(o.store);
  checkBins(o.numBins);
  if (o.seed !== undefined) checkRange('seed', o.seed, '--seed');
  if (o.split !== undefined && o.split !== 'train' && o.split !== 'test') {
    throw new ArgumentError('--split', `expected train or test, got ${JSON.stringify(o.split)}`);
  }
  if (typeof o.checkpoint !== 'string' || !existsSync(o.checkpoint)) {
    throw new ArgumentError(
      '--checkpoint',
      `expected a run or checkpoint directory, got ${String(o.checkpoint)}`,
    );
  }
  const identity = checkpointIdentity(o.checkpoint);
  const split = o.split ?? 'test';
  const count = scoringSet({
    dataset: o.dataset,
    split,
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
  }).count;
  const blockSize = o.blockSize ?? 500;
  const blocks = Math.ceil(count / blockSize);
  if (o.shards > blocks) {
    throw new ArgumentError(
      '--shards',
      `expected at most ${blocks} (blocks of ${blockSize} of ${count} images), got ${o.shards}`,
    );
  }
  const seed = o.seed ?? 0;
  const numBins = o.numBins ?? 15;
  const base = {
    checkpoint: resolve(o.checkpoint),
    dataset: o.dataset,
    split,
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    blockSize,
    mcSamples: o.mcSamples,
    seed,
    numBins,
  };
  const key = contentKey('score', { ...base, identity, shards: o.shards });
  const jobs: ShardJob[] = Array.from({ length: o.shards }, (_, index) => ({
    kind: 'shard',
    key: `${key}/shard-${index}`,
    index,
    ...base,
    blockStart: Math.floor((index * blocks) / o.shards),
    blockEnd: Math.floor(((index + 1) * blocks) / o.shards),
  }));
  return { kind: 'score', key, store: resolve(o.store), jobs };
}
