/**
 * Audit of issue #13 (one training vocabulary, one fit loop) through the public API, on models the
 * other tests do not train: a conv net with BatchNorm and Dropout, Bayesian MLP/conv nets with
 * several stochastic layers per registered estimator, callbacks and their payloads, the step
 * context handed to the KL schedule, resume in the middle of an epoch against an uninterrupted run,
 * and bad options refused naming the option before any step.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, data, layers, setSeed, train } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';
import { bands } from './helpers.js';

const SIZE = 8;
const K = 4;

/** A conv net with BatchNorm and Dropout (not a zoo model). */
function bnDropoutNet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [SIZE, SIZE, 1],
        filters: 4,
        kernelSize: 3,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.2, seed: 5 }),
      tf.layers.dense({
        units: K,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
      }),
    ],
  });
}

/** A Bayesian net with three stochastic layers (conv, dense, dense) of estimator `e`. */
function bayesNet(e: layers.Estimator): tf.LayersModel {
  const C = layers.ESTIMATOR_CLASSES[e];
  setSeed(11);
  return tf.sequential({
    layers: [
      new C.conv({ inputShape: [SIZE, SIZE, 1], filters: 3, kernelSize: 3, activation: 'relu' }),
      tf.layers.flatten(),
      new C.dense({ units: 8, activation: 'relu' }),
      new C.dense({ units: K }),
    ],
  });
}

function weightsOf(m: tf.LayersModel): Float32Array[] {
  return m.getWeights().map((w) => w.dataSync() as Float32Array);
}

describe('train.fit on models the tests have not seen', () => {
  it('a conv net with BatchNorm and Dropout: loss falls, tensors unchanged after fit + dispose', async () => {
    const set = bands(64, SIZE, K);
    const net = bnDropoutNet();
    const before = tf.memory().numTensors;
    const opt = tf.train.adam(0.01);
    const recs = await train.fit(net, {
      optimizer: opt,
      loss: train.crossEntropyLoss(),
      train: new data.Batcher(set, { batchSize: 16, seed: 1 }),
      epochs: 6,
    });
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(recs).toHaveLength(6);
    expect(recs[5]?.trainLoss).toBeLessThan(0.5 * (recs[0]?.trainLoss as number));
    expect(recs.every((r) => Number.isFinite(r.trainLoss))).toBe(true);
    // plain model: no KL, loss == nll
    for (const r of recs) {
      expect(r.trainKl).toBe(0);
      expect(r.trainLoss).toBeCloseTo(r.trainNll, 6);
    }
    net.dispose();
  });

  for (const e of layers.ESTIMATOR_NAMES) {
    it(`a Bayesian net with 3 stochastic layers (${e}): ELBO falls, kl reported as beta KL / N`, async () => {
      const set = bands(64, SIZE, K);
      const net = bayesNet(e);
      const before = tf.memory().numTensors;
      const opt = tf.train.adam(0.02);
      const recs = await train.fit(net, {
        optimizer: opt,
        loss: train.elboLoss({ datasetSize: set.count, klWeight: 0.5 }),
        train: new data.Batcher(set, { batchSize: 16, seed: 2 }),
        epochs: 6,
      });
      opt.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const first = recs[0] as train.EpochRecord;
      const last = recs[5] as train.EpochRecord;
      expect(last.trainLoss).toBeLessThan(first.trainLoss);
      // loss = nll + kl per record (kl is the weighted part beta KL / N)
      for (const r of recs) expect(r.trainLoss).toBeCloseTo(r.trainNll + r.trainKl, 4);
      // with a frozen net (SGD at lr 0) the reported kl is exactly beta KL / N, beta = 0.5
      const frozen = tf.train.sgd(0);
      const klNow = tf.tidy(() => layers.modelKL(net).dataSync()[0] as number);
      const [r0] = await train.fit(net, {
        optimizer: frozen,
        loss: train.elboLoss({ datasetSize: set.count, klWeight: 0.5 }),
        train: new data.Batcher(set, { batchSize: 16, seed: 2 }),
        epochs: 1,
      });
      frozen.dispose();
      expect(klNow).toBeGreaterThan(0);
      expect((r0 as train.EpochRecord).trainKl).toBeCloseTo((0.5 * klNow) / set.count, 4);
      net.dispose();
    });
  }

  it('callbacks fire in order with the documented payloads', async () => {
    const set = bands(40, SIZE, K); // 40 / 16 -> 3 batches per epoch
    const net = bnDropoutNet();
    const opt = tf.train.adam(0.01);
    const events: string[] = [];
    const records: train.EpochRecord[] = [];
    const out = await train.fit(net, {
      optimizer: opt,
      loss: train.crossEntropyLoss(),
      train: new data.Batcher(set, { batchSize: 16, seed: 1 }),
      epochs: 3,
      onEpochStart: (epoch, first) => events.push(`start ${epoch} ${first}`),
      validate: async (epoch) => {
        events.push(`validate ${epoch}`);
        return undefined;
      },
      onEpochEnd: (r) => {
        events.push(`end ${r.epoch}`);
        records.push(r);
      },
    });
    opt.dispose();
    expect(events).toEqual([
      'start 0 0',
      'validate 0',
      'end 1',
      'start 1 0',
      'validate 1',
      'end 2',
      'start 2 0',
      'validate 2',
      'end 3',
    ]);
    expect(records.map((r) => r.step)).toEqual([3, 6, 9]);
    expect(records.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(out).toEqual(records);
    for (const r of records) {
      expect(r.trainAccuracy).toBeGreaterThanOrEqual(0);
      expect(r.trainAccuracy).toBeLessThanOrEqual(1);
      // accuracy is a count over 40 images
      expect(Math.abs(r.trainAccuracy * 40 - Math.round(r.trainAccuracy * 40))).toBeLessThan(1e-9);
      expect(r.imagesPerSec).toBeGreaterThan(0);
      expect(r.testAccuracy).toBeUndefined();
    }
    net.dispose();
  });

  it('the KL schedule sees the one step context {step, numBatches, epoch, numEpochs, globalStep}', async () => {
    const set = bands(40, SIZE, K);
    const net = bayesNet('reparam');
    const opt = tf.train.adam(0.01);
    const seen: layers.StepContext[] = [];
    const blundell = layers.blundellKL();
    const recs = await train.fit(net, {
      optimizer: opt,
      loss: train.elboLoss({
        datasetSize: set.count,
        klWeight: (ctx) => {
          seen.push({ ...ctx });
          return blundell(ctx);
        },
      }),
      train: new data.Batcher(set, { batchSize: 16, seed: 1 }),
      epochs: 2,
    });
    opt.dispose();
    const want: layers.StepContext[] = [];
    for (let e = 0; e < 2; e++) {
      for (let b = 0; b < 3; b++) {
        want.push({ step: b, numBatches: 3, epoch: e, numEpochs: 2, globalStep: e * 3 + b });
      }
    }
    expect(seen).toEqual(want);
    // Blundell's weights 2^(M-i)/(2^M-1), M = 3: 4/7, 2/7, 1/7
    expect(want.slice(0, 3).map((c) => blundell(c))).toEqual([4 / 7, 2 / 7, 1 / 7].map((v) => v));
    expect(recs).toHaveLength(2);
    net.dispose();
  });

  it('maxBatchesPerEpoch: the schedule sees M = the batches actually run', async () => {
    const set = bands(64, SIZE, K); // 4 batches of 16
    const net = bayesNet('flipout');
    const opt = tf.train.adam(0.01);
    const seen: number[] = [];
    const recs = await train.fit(net, {
      optimizer: opt,
      loss: train.elboLoss({
        datasetSize: set.count,
        klWeight: (ctx) => {
          seen.push(ctx.numBatches);
          return 1;
        },
      }),
      train: new data.Batcher(set, { batchSize: 16, seed: 1 }),
      epochs: 1,
      maxBatchesPerEpoch: 2,
    });
    opt.dispose();
    expect(seen).toEqual([2, 2]);
    expect(recs[0]?.step).toBe(2);
    net.dispose();
  });

  it('a stop mid-epoch then resume (initialEpoch/Batch/Step/Totals) equals the uninterrupted run', async () => {
    const set = bands(48, SIZE, K); // 3 batches per epoch
    const run = async (
      stopAfter: number | undefined,
    ): Promise<{ w: Float32Array[]; recs: train.EpochRecord[] }> => {
      const net = bayesNet('local');
      const opt = tf.train.adam(0.01);
      const loss = train.elboLoss({ datasetSize: set.count });
      const batcher = new data.Batcher(set, { batchSize: 16, seed: 9 });
      const seeds = (epoch: number): void => setSeed(1000 + epoch);
      let steps = 0;
      let pos: layers.LoopPosition | undefined;
      let recs = await train.fit(net, {
        optimizer: opt,
        loss,
        train: batcher,
        epochs: 3,
        onEpochStart: (e, first) => {
          if (first === 0) seeds(e);
        },
        ...(stopAfter !== undefined
          ? {
              shouldStop: () => ++steps >= stopAfter,
              onStop: (p: layers.LoopPosition) => {
                pos = p;
              },
            }
          : {}),
      });
      if (pos !== undefined) {
        const p: layers.LoopPosition = JSON.parse(JSON.stringify(pos)) as layers.LoopPosition;
        // the weight-sampling stream continues: re-seed as the uninterrupted run would be at step p
        const more = await train.fit(net, {
          optimizer: opt,
          loss,
          train: batcher,
          epochs: 3,
          initialEpoch: p.epoch,
          initialBatch: p.batch,
          initialStep: p.step,
          initialTotals: p.totals,
          onEpochStart: (e, first) => {
            if (first === 0) seeds(e);
          },
        });
        recs = [...recs, ...more];
      }
      const w = weightsOf(net);
      opt.dispose();
      net.dispose();
      return { w, recs };
    };
    // stop at an epoch boundary (step 3): the resumed run re-seeds at epoch 1 as the full run does
    const full = await run(undefined);
    const resumed = await run(3);
    expect(resumed.recs.map((r) => r.step)).toEqual([3, 6, 9]);
    expect(resumed.w.length).toBe(full.w.length);
    for (let i = 0; i < full.w.length; i++) {
      const a = full.w[i] as Float32Array;
      const b = resumed.w[i] as Float32Array;
      let worst = 0;
      for (let j = 0; j < a.length; j++)
        worst = Math.max(worst, Math.abs((a[j] ?? 0) - (b[j] ?? 0)));
      expect(worst).toBeLessThan(1e-5);
    }
    for (let i = 0; i < 3; i++) {
      expect(resumed.recs[i]?.trainLoss).toBeCloseTo(full.recs[i]?.trainLoss as number, 4);
    }
  });

  it('a mid-epoch stop reports the position and the epoch totals so far', async () => {
    const set = bands(48, SIZE, K);
    const net = bnDropoutNet();
    const opt = tf.train.adam(0.01);
    let steps = 0;
    let pos: layers.LoopPosition | undefined;
    const recs = await train.fit(net, {
      optimizer: opt,
      loss: train.crossEntropyLoss(),
      train: new data.Batcher(set, { batchSize: 16, seed: 9 }),
      epochs: 3,
      shouldStop: () => ++steps >= 5,
      onStop: (p) => {
        pos = p;
      },
    });
    opt.dispose();
    net.dispose();
    expect(recs).toHaveLength(1);
    expect(pos?.epoch).toBe(1);
    expect(pos?.batch).toBe(2);
    expect(pos?.step).toBe(5);
    expect(pos?.totals.n).toBe(32);
    expect(pos?.totals.steps).toBe(2);
  });
});

describe('train.fit refuses bad options before any step', () => {
  const set = bands(32, SIZE, K);
  const net = bnDropoutNet();
  const opt = tf.train.adam(0.01);
  const batcher = new data.Batcher(set, { batchSize: 8, seed: 1 });
  const base = (): train.FitOptions => ({
    optimizer: opt,
    loss: train.crossEntropyLoss(),
    train: batcher,
    epochs: 1,
  });
  const w0 = weightsOf(net);
  const cases: { call: string; opts: () => unknown; arg: string | RegExp; message?: RegExp }[] = [
    { call: 'misspelt key epoch', opts: () => ({ ...base(), epoch: 2 }), arg: /epoch/ },
    { call: 'Keras key batchSize', opts: () => ({ ...base(), batchSize: 4 }), arg: /batchSize/ },
    { call: 'Keras key callbacks', opts: () => ({ ...base(), callbacks: [] }), arg: /callbacks/ },
    { call: 'epochs -1', opts: () => ({ ...base(), epochs: -1 }), arg: 'epochs' },
    { call: 'epochs 1.5', opts: () => ({ ...base(), epochs: 1.5 }), arg: 'epochs' },
    { call: 'epochs NaN', opts: () => ({ ...base(), epochs: NaN }), arg: 'epochs' },
    { call: 'epochs "2"', opts: () => ({ ...base(), epochs: '2' }), arg: 'epochs' },
    { call: 'train an array', opts: () => ({ ...base(), train: [1, 2] }), arg: 'train' },
    {
      call: 'train in-memory arrays (not a Batcher)',
      opts: () => ({ ...base(), train: { x: [[0]], y: [0] } }),
      arg: 'train',
    },
    {
      call: 'optimizer missing',
      opts: () => ({ ...base(), optimizer: undefined }),
      arg: 'optimizer',
    },
    {
      call: 'optimizer a string',
      opts: () => ({ ...base(), optimizer: 'adam' }),
      arg: 'optimizer',
    },
    { call: 'loss a string', opts: () => ({ ...base(), loss: 'crossentropy' }), arg: 'loss' },
    {
      call: 'initialEpoch > epochs',
      opts: () => ({ ...base(), initialEpoch: 2 }),
      arg: 'initialEpoch',
    },
    { call: 'initialEpoch -1', opts: () => ({ ...base(), initialEpoch: -1 }), arg: 'initialEpoch' },
    {
      call: 'initialBatch > batches',
      opts: () => ({ ...base(), initialBatch: 5 }),
      arg: 'initialBatch',
    },
    { call: 'initialStep 0.5', opts: () => ({ ...base(), initialStep: 0.5 }), arg: 'initialStep' },
    {
      call: 'maxBatchesPerEpoch 0',
      opts: () => ({ ...base(), maxBatchesPerEpoch: 0 }),
      arg: 'maxBatchesPerEpoch',
    },
    {
      call: 'onEpochEnd not a function',
      opts: () => ({ ...base(), onEpochEnd: 3 }),
      arg: 'onEpochEnd',
    },
    { call: 'validate not a function', opts: () => ({ ...base(), validate: {} }), arg: 'validate' },
    {
      call: 'images of another size than the model input',
      opts: () => ({ ...base(), train: new data.Batcher(bands(8, 10, K), { batchSize: 4 }) }),
      arg: 'train',
    },
    {
      call: 'labels beyond the model classes',
      opts: () => ({ ...base(), train: new data.Batcher(bands(8, SIZE, 6), { batchSize: 4 }) }),
      arg: 'train',
    },
    { call: 'progress not a reporter', opts: () => ({ ...base(), progress: 3 }), arg: 'progress' },
    {
      call: 'progress without stop',
      opts: () => ({ ...base(), progress: { start() {}, update() {} } }),
      arg: 'progress',
    },
    {
      call: 'initialTotals not totals',
      opts: () => ({ ...base(), initialBatch: 1, initialTotals: { loss: 1 } }),
      arg: 'initialTotals',
    },
    {
      call: 'initialTotals with NaN',
      opts: () => ({
        ...base(),
        initialBatch: 1,
        initialTotals: { loss: NaN, nll: 0, kl: 0, correct: 0, n: 8, steps: 1 },
      }),
      arg: 'initialTotals',
    },
    {
      call: 'shouldStop not a function',
      opts: () => ({ ...base(), shouldStop: true }),
      arg: 'shouldStop',
    },
    { call: 'options undefined', opts: () => undefined, arg: 'options' },
  ];
  for (const c of cases) {
    it(c.call, async () => {
      await expectBadInput({
        call: c.call,
        run: () => train.fit(net, c.opts() as train.FitOptions),
        arg: c.arg,
      });
      // nothing trained
      const w = weightsOf(net);
      for (let i = 0; i < w.length; i++) expect(w[i]).toEqual(w0[i]);
    });
  }

  it('a model that is not a classifier is refused naming model', async () => {
    const reg = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] });
    await expectBadInput({
      call: 'regression net',
      run: () => train.fit(reg, base()),
      arg: 'model',
    });
    reg.dispose();
  });

  it('a batch larger than the data with dropRemainder (no batch at all) is refused naming batchSize', () => {
    expect(() => new data.Batcher(set, { batchSize: 64, dropRemainder: true })).toThrow(
      expect.objectContaining({ argument: 'batchSize' }),
    );
    // without dropRemainder it is one batch of the whole set (as Keras's fit)
    expect(new data.Batcher(set, { batchSize: 64 }).numBatches).toBe(1);
  });

  it('an empty set is refused by Batcher naming the set', () => {
    const empty = {
      ...bands(4, SIZE, K),
      count: 0,
      images: new Uint8Array(0),
      labels: new Uint8Array(0),
    };
    expect(() => new data.Batcher(empty, { batchSize: 4 })).toThrow(ArgumentError);
  });

  it('a diverging run stops with an error, not NaN records', async () => {
    const set2 = bands(32, SIZE, K);
    const net2 = bnDropoutNet();
    const opt2 = tf.train.sgd(1e30);
    const before = tf.memory().numTensors;
    await expect(
      train.fit(net2, {
        optimizer: opt2,
        loss: train.crossEntropyLoss(),
        train: new data.Batcher(set2, { batchSize: 8, seed: 1 }),
        epochs: 3,
      }),
    ).rejects.toThrow(/diverged/);
    expect(tf.memory().numTensors).toBe(before);
    opt2.dispose();
    net2.dispose();
  });
});

describe('failures inside the loop leave nothing behind', () => {
  it('a loss that throws at step 2: fit rejects with it, no tensor left, batches freed', async () => {
    const set = bands(48, SIZE, K);
    const net = bnDropoutNet();
    const before = tf.memory().numTensors;
    const opt = tf.train.adam(0.01);
    const ce = train.crossEntropyLoss();
    let calls = 0;
    const boom: train.TrainLoss = (m, x, y, p) => {
      if (++calls === 2) {
        // tensors made before the throw are inside minimize's tape: they must be freed too
        tf.ones([3, 3]);
        throw new Error('boom at step 2');
      }
      return ce(m, x, y, p);
    };
    await expect(
      train.fit(net, {
        optimizer: opt,
        loss: boom,
        train: new data.Batcher(set, { batchSize: 16, seed: 1 }),
        epochs: 2,
      }),
    ).rejects.toThrow('boom at step 2');
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('an onEpochEnd that throws rejects fit after the epoch, no tensor left', async () => {
    const set = bands(32, SIZE, K);
    const net = bnDropoutNet();
    const before = tf.memory().numTensors;
    const opt = tf.train.adam(0.01);
    await expect(
      train.fit(net, {
        optimizer: opt,
        loss: train.crossEntropyLoss(),
        train: new data.Batcher(set, { batchSize: 16, seed: 1 }),
        epochs: 3,
        onEpochEnd: (r) => {
          if (r.epoch === 2) throw new Error('disk full');
        },
      }),
    ).rejects.toThrow('disk full');
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('a KL schedule returning a negative weight is refused naming klWeight, no tensor left', async () => {
    const set = bands(32, SIZE, K);
    const net = bayesNet('flipout');
    const before = tf.memory().numTensors;
    const opt = tf.train.adam(0.01);
    const err = await train
      .fit(net, {
        optimizer: opt,
        loss: train.elboLoss({ datasetSize: 32, klWeight: () => -1 }),
        train: new data.Batcher(set, { batchSize: 16, seed: 1 }),
        epochs: 1,
      })
      .catch((e: unknown) => e);
    opt.dispose();
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe('klWeight');
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('resuming at the end of an epoch (initialBatch = all batches) records that epoch from its totals', async () => {
    const set = bands(32, SIZE, K); // 2 batches
    const net = bnDropoutNet();
    const opt = tf.train.adam(0.01);
    const totals = { loss: 40, nll: 40, kl: 0, correct: 8, n: 32, steps: 2 };
    const recs = await train.fit(net, {
      optimizer: opt,
      loss: train.crossEntropyLoss(),
      train: new data.Batcher(set, { batchSize: 16, seed: 1 }),
      epochs: 2,
      initialEpoch: 1,
      initialBatch: 2,
      initialStep: 4,
      initialTotals: totals,
    });
    opt.dispose();
    net.dispose();
    expect(recs).toHaveLength(1);
    expect(recs[0]?.epoch).toBe(2);
    expect(recs[0]?.step).toBe(4);
    expect(recs[0]?.trainLoss).toBeCloseTo(40 / 32, 12);
    expect(recs[0]?.trainAccuracy).toBeCloseTo(8 / 32, 12);
  });
});

describe('the evidential objective through the same loop', () => {
  it('an evidential classifier trains (loss falls), no tensor left; bad options named at once', async () => {
    const set = bands(48, SIZE, K);
    const net = bnDropoutNet();
    const before = tf.memory().numTensors;
    const opt = tf.train.adam(0.01);
    const recs = await train.fit(net, {
      optimizer: opt,
      loss: train.evidentialLoss({ evidence: 'softplus' }),
      train: new data.Batcher(set, { batchSize: 16, seed: 3 }),
      epochs: 5,
    });
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(recs.every((r) => Number.isFinite(r.trainLoss))).toBe(true);
    expect(recs[4]?.trainNll).toBeLessThan(recs[0]?.trainNll as number);
    // the annealed KL of the first epoch starts at weight 0 (relative-piecewise): kl <= loss
    for (const r of recs) expect(r.trainLoss).toBeCloseTo(r.trainNll + r.trainKl, 4);
    net.dispose();
    expect(() => train.evidentialLoss({ los: 'x' } as never)).toThrow(
      expect.objectContaining({ argument: 'los' }),
    );
    expect(() => train.evidentialLoss({ evidence: 'sigmoid' })).toThrow(ArgumentError);
    expect(() => train.evidentialLoss({ loss: 'mse-typo' })).toThrow(ArgumentError);
  });
});
