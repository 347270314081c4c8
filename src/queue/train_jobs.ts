/**
 * The training jobs: an ensemble member (train with `runTraining`, then predict the test set and
 * an out-of-distribution set with its Monte Carlo predictive) and a sweep point (train, keep the
 * last epoch's metrics). Both train in the job's work directory with `resumeOrStart`, so a job
 * picked up again after its worker died continues from the last epoch's checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { runTraining } from '../app/train.js';
import { type TrainConfig } from '../app/run_config.js';
import { loadSplit, proportionalTestLimit, transformOf } from '../app/run_data.js';
import { Batcher } from '../data/batcher.js';
import { limitImageSet, type ImageSet } from '../data/dataset.js';
import { loadDataset } from '../data/files.js';
import { setMode } from '../layers/model_utils.js';
import { getModelEntry } from '../models/registry.js';
import type { EpochRecord } from '../train/fit.js';
import type { ProgressReporter } from '../train/progress.js';
import { ArgumentError } from '../utils/errors.js';
import { setSeed } from '../utils/seed.js';
import type { MemberJob, SweepJob } from './jobs.js';
import type { ResultStore } from './result_store.js';
import { disposeModel } from '../layers/dispose_model.js';

/** Reports a job's progress as a fraction in [0, 1]. */
export type ProgressFn = (fraction: number) => void;

/** What a member job stores (besides the blobs `in.f32`, `out.f32`: `[N, K]` probabilities). */
export interface MemberResult {
  index: number;
  seed: number;
  inName: string;
  outName: string;
  inCount: number;
  outCount: number;
  numClasses: number;
  mcSamples: number;
  last: EpochRecord | undefined;
  seconds: number;
}

/** What a sweep job stores. */
export interface SweepResult {
  index: number;
  params: Record<string, string | number>;
  last: EpochRecord | undefined;
  seconds: number;
}

/** A progress reporter of the training loop mapped to `[lo, hi]` of a job's fraction. */
function trainingProgress(
  epochs: number,
  report: ProgressFn,
  lo: number,
  hi: number,
): ProgressReporter {
  let epoch = 0;
  let total = 1;
  let last = -1;
  return {
    start(label: string, t: number) {
      const m = /^epoch (\d+)/.exec(label);
      if (m !== null) epoch = Number(m[1]) - 1;
      total = Math.max(1, t);
    },
    update(value: number) {
      const f = lo + ((hi - lo) * Math.min(epochs, epoch + value / total)) / epochs;
      if (f - last >= 0.01) {
        last = f;
        report(f);
      }
    },
    stop() {},
    log() {},
  };
}

/** Train `config` in the job's work directory (resuming a run a dead worker left). */
async function trainInStore(
  config: TrainConfig,
  key: string,
  store: ResultStore,
  report: ProgressFn,
  hi: number,
): Promise<{
  model: tf.LayersModel;
  records: EpochRecord[];
  seconds: number;
  config: TrainConfig;
}> {
  const out = store.workDir(key);
  const r = await runTraining(
    { ...config, out },
    {
      resumeOrStart: true,
      waitForLock: true,
      quiet: true,
      progress: trainingProgress(config.epochs, report, 0, hi),
    },
  );
  return { model: r.model, records: r.records, seconds: r.seconds, config: r.config };
}

/**
 * Monte Carlo predictive probabilities of `set`: `(1/S) sum_s softmax(f_{w_s}(x))` with
 * `S = mcSamples` weight draws for a Bayesian model (one pass otherwise), seeded by `seed`.
 */
async function predictive(
  model: tf.LayersModel,
  config: TrainConfig,
  set: ImageSet,
  transform: ReturnType<typeof transformOf>,
  seed: number,
): Promise<Float32Array> {
  const bayesian = getModelEntry(config.model).kind === 'bayesian';
  if (bayesian) setMode(model, 'sample');
  const s = bayesian ? config.mcSamples : 1;
  setSeed(seed);
  // the model's classes: an OOD set has its own count (was: 'Operands could not be broadcast
  // together with shapes 50,10 and 50,26' for a 26-class model against Fashion-MNIST)
  const units = model.outputs[0]?.shape.at(-1);
  const k = typeof units === 'number' ? units : set.numClasses;
  const out = new Float32Array(set.count * k);
  const batcher = new Batcher(set, {
    batchSize: config.evalBatchSize ?? 500,
    shuffle: false,
    transform,
  });
  let done = 0;
  for (const b of batcher.batches(0)) {
    try {
      const p = tf.tidy(() => {
        let sum: tf.Tensor = tf.zeros([b.size, k]);
        for (let i = 0; i < s; i++) {
          sum = tf.add(sum, tf.softmax(model.apply(b.x, { training: false }) as tf.Tensor));
        }
        return tf.div(sum, s);
      });
      out.set((await p.data()) as Float32Array, done * k);
      p.dispose();
      done += b.size;
    } finally {
      b.dispose();
    }
  }
  return out;
}

const bytesOf = (a: Float32Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Run an ensemble member: train, then store its predictive probabilities on the test split of
 * its dataset and of `job.ood` (same images for every member).
 */
export async function runMemberJob(
  job: MemberJob,
  store: ResultStore,
  report: ProgressFn,
): Promise<MemberResult> {
  const t0 = performance.now();
  // the OOD set is checked before the member trains (was: refused after its training)
  const oodFull = loadDataset(job.ood, { split: 'test' });
  const inChannels = loadSplit(job.config, 'test').channels;
  if (oodFull.channels !== inChannels) {
    throw new ArgumentError(
      'ood',
      `images of ${job.ood} (${oodFull.height}x${oodFull.width}x${oodFull.channels}) have ` +
        `${oodFull.channels} channel(s), ${job.config.dataset}'s ${inChannels}`,
    );
  }
  transformOf(job.config, oodFull); // images larger than the input are refused here
  const r = await trainInStore(job.config, job.key, store, report, 0.8);
  try {
    const cfg = r.config;
    const fullTrainCount = loadSplit(cfg, 'train').count;
    const inFull = loadSplit(cfg, 'test');
    const limit =
      job.evalLimit ??
      cfg.testLimit ??
      proportionalTestLimit(cfg.limit, fullTrainCount, inFull.count);
    const inSet = limit !== undefined ? limitImageSet(inFull, limit) : inFull;
    const outSet = limit !== undefined ? limitImageSet(oodFull, limit) : oodFull;
    // each set padded (or resized) to the model's input: the OOD images may have another size
    const pin = await predictive(r.model, cfg, inSet, transformOf(cfg, inSet), cfg.seed);
    report(0.9);
    const pout = await predictive(
      r.model,
      cfg,
      outSet,
      transformOf(cfg, outSet),
      cfg.seed + 0x5bd1e995,
    );
    const value: MemberResult = {
      index: job.index,
      seed: cfg.seed,
      inName: inSet.name,
      outName: outSet.name,
      inCount: inSet.count,
      outCount: outSet.count,
      numClasses: pin.length / inSet.count,
      mcSamples: getModelEntry(cfg.model).kind === 'bayesian' ? cfg.mcSamples : 1,
      last: r.records.at(-1),
      seconds: (performance.now() - t0) / 1000,
    };
    store.put(job.key, value, { 'in.f32': bytesOf(pin), 'out.f32': bytesOf(pout) });
    return value;
  } finally {
    disposeModel(r.model);
  }
}

/** Run a sweep point: train and store the last epoch's metrics. */
export async function runSweepJob(
  job: SweepJob,
  store: ResultStore,
  report: ProgressFn,
): Promise<SweepResult> {
  const t0 = performance.now();
  const r = await trainInStore(job.config, job.key, store, report, 1);
  disposeModel(r.model);
  const value: SweepResult = {
    index: job.index,
    params: job.params,
    last: r.records.at(-1),
    seconds: (performance.now() - t0) / 1000,
  };
  store.put(job.key, value);
  return value;
}
