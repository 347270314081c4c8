import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/data/index.js';
import { bands } from './helpers.js';
import { createModel } from '../../src/models/index.js';
import {
  crossEntropyLoss,
  elboLoss,
  evidentialLoss,
  type TrainLoss,
} from '../../src/train/loss.js';
import { trainStep } from '../../src/train/step.js';
import { fit } from '../../src/train/fit.js';
import { setSeed } from '../../src/utils/seed.js';

const cases: {
  name: string;
  model: string;
  opts: object;
  loss: (n: number) => TrainLoss;
  size: number;
  steps?: number;
}[] = [
  { name: 'plain lenet5', model: 'lenet5', opts: {}, loss: () => crossEntropyLoss(), size: 32 },
  {
    name: 'bayes-lenet5 reparam',
    model: 'bayes-lenet5',
    opts: { bayesian: 'reparam' },
    loss: (n) => elboLoss({ datasetSize: n }),
    size: 32,
  },
  {
    name: 'bayes-lenet5 flipout',
    model: 'bayes-lenet5',
    opts: { bayesian: 'flipout' },
    loss: (n) => elboLoss({ datasetSize: n, klWeight: 'blundell' }),
    size: 32,
    steps: 50,
  },
  {
    name: 'bayes-lenet5 flipout, 3 weight samples per step',
    model: 'bayes-lenet5',
    opts: { bayesian: 'flipout' },
    loss: (n) => elboLoss({ datasetSize: n, samples: 3 }),
    size: 32,
  },
  {
    name: 'bayes-lenet5 local',
    model: 'bayes-lenet5',
    opts: { bayesian: 'local' },
    loss: (n) => elboLoss({ datasetSize: n, klWeight: 'soenderby' }),
    size: 32,
  },
  {
    name: 'evidential lenet',
    model: 'evidential-lenet',
    opts: {},
    loss: () => evidentialLoss(),
    size: 28,
  },
];

describe('training steps', () => {
  for (const c of cases) {
    const steps = c.steps ?? 12;
    it(`${c.name}: ${steps} training steps leave the tensor count flat`, () => {
      setSeed(11);
      const set = bands(16, c.size, 10);
      const model = createModel(c.model, { ...c.opts, inputShape: [c.size, c.size, 1] });
      const opt = tf.train.adam(1e-3);
      const loss = c.loss(set.count);
      const b = new Batcher(set, { batchSize: 4, seed: 1 });
      const counts: number[] = [];
      let step = 0;
      for (let epoch = 0; step < steps; epoch++) {
        for (const batch of b.batches(epoch)) {
          const s = trainStep(model, opt, loss, batch.x, batch.y, {
            step: step % b.numBatches,
            epoch,
            numBatches: b.numBatches,
            numEpochs: 20,
            globalStep: step,
          });
          batch.dispose();
          expect(Number.isFinite(s.loss)).toBe(true);
          expect(s.loss).toBeAllclose(s.nll + s.kl, { rtol: 1e-5, atol: 1e-5 });
          counts.push(tf.memory().numTensors);
          if (++step >= steps) break;
        }
      }
      // the optimizer creates its moment variables during the first step
      expect(new Set(counts.slice(1)).size).toBe(1);
      opt.dispose();
      model.dispose();
    });
  }

  it('fit lowers the loss of a plain LeNet-5 on a learnable set', async () => {
    setSeed(5);
    const set = bands(32, 32, 4);
    const model = createModel('lenet5', { numClasses: 4 });
    const records = await fit(model, {
      optimizer: tf.train.adam(3e-3),
      loss: crossEntropyLoss(),
      train: new Batcher(set, { batchSize: 8, seed: 2, transform: { normalize: 'unit' } }),
      epochs: 6,
    });
    expect(records.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(records[5]?.step).toBe(24);
    expect((records[5] as { trainLoss: number }).trainLoss).toBeLessThan(
      0.5 * (records[0] as { trainLoss: number }).trainLoss,
    );
    expect(records[5]?.trainAccuracy).toBeGreaterThan(0.9);
    model.dispose();
  });

  it('fit reports a diverging loss clearly', async () => {
    const set = bands(8, 32, 4);
    const model = createModel('lenet5', { numClasses: 4 });
    const nanLoss: TrainLoss = (m, x, y, p) => {
      const t = crossEntropyLoss()(m, x, y, p);
      return { ...t, loss: tf.mul(t.loss, NaN) as tf.Scalar };
    };
    await expect(
      fit(model, {
        optimizer: tf.train.adam(1e-3),
        loss: nanLoss,
        train: new Batcher(set, { batchSize: 4 }),
        epochs: 1,
      }),
    ).rejects.toThrow(/training diverged: loss NaN at epoch 1, batch 1/);
    await expect(
      fit(model, {
        optimizer: tf.train.sgd(1),
        loss: nanLoss,
        train: new Batcher(set, { batchSize: 4 }),
        epochs: -1,
      }),
    ).rejects.toThrow(/epochs/);
    model.dispose();
  });
});
