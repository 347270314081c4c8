/**
 * One shard of Monte Carlo uncertainty scoring: the blocks `[blockStart, blockEnd)` of an image
 * set, each block predicted `S` times under its own seed and reduced to {@link BlockStats}. The
 * blocks (not the shards) carry the seeds, so any sharding scores the same draws.
 */
import * as tf from '@tensorflow/tfjs';
import { openRun } from '../app/open_run.js';
import { transformOf } from '../app/run_data.js';
import { Batcher } from '../data/batcher.js';
import { limitImageSet, type ImageSet } from '../data/dataset.js';
import { loadDataset } from '../data/files.js';
import { setMode } from '../layers/model_utils.js';
import { setSeed } from '../utils/seed.js';
import { blockSeed, type ShardJob } from './jobs.js';
import type { ResultStore } from './result_store.js';
import { blockStats, type BlockStats } from './score_stats.js';
import type { ProgressFn } from './train_jobs.js';
import { disposeModel } from '../layers/dispose_model.js';

/** What a shard job stores. */
export interface ShardResult {
  index: number;
  blocks: BlockStats[];
  images: number;
  seconds: number;
}

/** Images `[start, end)` of a set (views, no copy). */
export function sliceImageSet(set: ImageSet, start: number, end: number): ImageSet {
  const per = set.height * set.width * set.channels;
  const e = Math.min(end, set.count);
  return {
    ...set,
    name: `${set.name}[${start}:${e}]`,
    images: set.images.subarray(start * per, e * per),
    labels: set.labels.subarray(start, e),
    count: Math.max(0, e - start),
  };
}

/** The image set a scoring job reads (the first `limit` images of the split). */
export function scoringSet(
  job: Pick<ShardJob, 'dataset' | 'split' | 'dataDir' | 'limit'>,
): ImageSet {
  const set = loadDataset(job.dataset, {
    split: job.split,
    ...(job.dataDir !== undefined ? { dir: job.dataDir } : {}),
  });
  return job.limit !== undefined ? limitImageSet(set, job.limit) : set;
}

/** Run a scoring shard and store its block statistics. */
export async function runShardJob(
  job: ShardJob,
  store: ResultStore,
  report: ProgressFn,
): Promise<ShardResult> {
  const t0 = performance.now();
  const run = await openRun(job.checkpoint);
  const { model, kind, config } = run;
  try {
    const set = scoringSet(job);
    const transform = transformOf(config, set);
    const sampling = kind === 'bayesian';
    if (sampling) setMode(model, 'sample');
    const s = sampling ? job.mcSamples : 1;
    const blocks: BlockStats[] = [];
    let images = 0;
    for (let b = job.blockStart; b < job.blockEnd; b++) {
      const part = sliceImageSet(set, b * job.blockSize, (b + 1) * job.blockSize);
      if (part.count === 0) break;
      const batcher = new Batcher(part, { batchSize: part.count, shuffle: false, transform });
      for (const batch of batcher.batches(0)) {
        try {
          setSeed(blockSeed(job.seed, b));
          const probs = tf.tidy(() => {
            const draws: tf.Tensor[] = [];
            for (let i = 0; i < s; i++) {
              draws.push(tf.softmax(model.apply(batch.x, { training: false }) as tf.Tensor));
            }
            return tf.stack(draws);
          });
          const values = await probs.data();
          probs.dispose();
          // the model's classes (the scored set may have fewer)
          const k = values.length / (s * part.count);
          blocks.push(blockStats(b, values, part.labels, s, k, job.numBins));
        } finally {
          batch.dispose();
        }
      }
      images += part.count;
      report((b + 1 - job.blockStart) / (job.blockEnd - job.blockStart));
    }
    const value: ShardResult = {
      index: job.index,
      blocks,
      images,
      seconds: (performance.now() - t0) / 1000,
    };
    store.put(job.key, value);
    return value;
  } finally {
    disposeModel(model);
  }
}
