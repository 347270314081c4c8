/**
 * Audit of issue #13's application layer (one "open a run" helper for eval, uncertainty and
 * resume): `runEvaluation` on a run trained by `runTraining` gives the same figures twice and
 * the figures of `train.evaluate` on the loaded model with the run's preprocessing; a bare model
 * saved by a user (a softmax head, not a zoo model) is evaluated with its NLL read as `-log p_y`;
 * a saved model the runners cannot read (two inputs) is refused naming the checkpoint; no tensor
 * left by any call.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { data as dataNs, layers, train } from '../../src/index.js';
import {
  runEvaluation,
  runTraining,
  TRAIN_DEFAULTS,
  loadSplit,
  transformOf,
  type TrainConfig,
} from '../../src/app/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { idxDataset } from '../idx_fixture.js';
import '../../src/node.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit15-open-'));
let dataDir: string;
let run: string;
let cfg: TrainConfig;

beforeAll(async () => {
  dataDir = idxDataset({ count: 32, classes: 3 }, { count: 20, classes: 3 });
  run = join(tmp(), 'run');
  cfg = {
    ...TRAIN_DEFAULTS,
    model: 'bayes-lenet5',
    estimator: 'flipout',
    dataset: 'mnist',
    dataDir,
    inputSize: 16,
    out: run,
    epochs: 1,
    batchSize: 16,
    mcSamples: 4,
    seed: 3,
  };
  const r = await runTraining(cfg, { quiet: true });
  layers.disposeModel(r.model);
}, 120_000);

describe('runEvaluation through openRun', () => {
  it('the same figures twice, equal to train.evaluate on the loaded model; no tensor left', async () => {
    const before = tf.memory().numTensors;
    const a = await runEvaluation({ checkpoint: run, mcSamples: 6, seed: 9 });
    const b = await runEvaluation({ checkpoint: run, mcSamples: 6, seed: 9 });
    expect(tf.memory().numTensors).toBe(before);
    expect(a.count).toBe(20);
    expect(b.accuracyMc).toBe(a.accuracyMc);
    expect(b.nll).toBe(a.nll);
    expect(a.model).toBe('bayes-lenet5');
    // the mean-weights accuracy does not depend on the seed: recompute it from the checkpoint
    const { loadCheckpoint } = await import('../../src/node.js');
    const ck = await loadCheckpoint(run);
    const test = loadSplit(cfg, 'test');
    const batcher = new dataNs.Batcher(test, {
      batchSize: 500,
      shuffle: false,
      transform: transformOf(cfg, test),
    });
    const ref = await train.evaluate(ck.model, batcher, {
      kind: 'bayesian',
      mcSamples: 2,
      setMode: (m, mode) => {
        layers.setMode(m, mode);
      },
    });
    expect(a.accuracyMean).toBeCloseTo(ref.accuracyMean as number, 12);
    layers.disposeModel(ck.model);
  });

  it('a bare softmax-ended model saved by a user: evaluated, NLL = -log p_y', async () => {
    const dir = join(tmp(), 'bare');
    const m = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({
          units: 10, // MNIST's classes (the fixture draws 3 of them)
          activation: 'softmax',
          kernelInitializer: tf.initializers.randomNormal({ stddev: 0.01, seed: 4 }),
        }),
      ],
    });
    await m.save(`file://${dir}`);
    const before = tf.memory().numTensors;
    const r = await runEvaluation({ checkpoint: dir, dataset: 'mnist', dataDir });
    expect(tf.memory().numTensors).toBe(before);
    // reference: the bare model's preprocessing is the dataset's normalisation, no resize
    const test = loadSplit({ ...cfg, inputSize: 28 }, 'test');
    const batcher = new dataNs.Batcher(test, {
      batchSize: 500,
      shuffle: false,
      transform: { normalize: 'mnist', size: [28, 28], resize: 'pad' },
    });
    let nll = 0;
    for (const b of batcher.batches(0)) {
      const p = (m.predict(b.x) as tf.Tensor).arraySync() as number[][];
      const ys = Array.from(b.y.dataSync());
      p.forEach((row, i) => (nll -= Math.log(row[ys[i] as number] as number)));
      b.dispose();
      tf.dispose(p);
    }
    expect(r.count).toBe(20);
    expect(r.nll).toBeCloseTo(nll / 20, 4);
    m.dispose();
  });

  it('a two-input saved model is refused naming the checkpoint, no tensor left', async () => {
    const dir = join(tmp(), 'two');
    const ia = tf.input({ shape: [28, 28, 1] });
    const ib = tf.input({ shape: [2] });
    const f = tf.layers.flatten().apply(ia) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 10 })
      .apply(tf.layers.concatenate().apply([f, ib]) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const m = tf.model({ inputs: [ia, ib], outputs: out });
    await m.save(`file://${dir}`);
    m.dispose();
    const before = tf.memory().numTensors;
    const err = await runEvaluation({ checkpoint: dir, dataset: 'mnist', dataDir }).catch(
      (e: unknown) => e,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(err, (err as Error).stack).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toMatch(/checkpoint|model/);
  });

  it('bad eval options are named before the checkpoint is opened', async () => {
    for (const [c, arg] of [
      [{ checkpoint: run, mcSample: 3 }, 'mcSample'],
      [{ checkpoint: run, seed: -1 }, 'seed'],
      [{ checkpoint: run, resize: 'crop' }, 'resize'],
      [{ checkpoint: run, dataset: 'mnistt' }, 'dataset'],
      [{ checkpoint: '' }, 'checkpoint'],
      [{ checkpoint: 3 }, 'checkpoint'],
      [{}, 'checkpoint'],
    ] as const) {
      const err = await runEvaluation(c as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(c)).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument, JSON.stringify(c)).toBe(arg);
    }
  });
});
