/**
 * Audit of issue #13 (one step, one vocabulary, estimators as data) on the pieces a user calls one
 * by one: `train.trainStep` and the loss cells' `trainStep` with mismatched inputs, `train.evaluate`
 * against a float64 recomputation of its accuracy / NLL / entropy, the KL schedules against their
 * formulas, and every registered estimator's classes saved and loaded back (frozen predictions
 * equal).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { data, layers, models, setSeed, train } from '../../src/index.js';
import { expectBadInput, saveAndLoad } from '../helpers.js';
import { bands } from './helpers.js';

const SIZE = 8;
const K = 4;

function smallNet(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [SIZE, SIZE, 1] }),
      tf.layers.dense({ units: K, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
    ],
  });
}

describe('one training step: bad arguments named before any work', () => {
  const net = smallNet();
  const opt = tf.train.sgd(0.1);
  const loss = train.crossEntropyLoss();
  const ctx = { step: 0, numBatches: 1, epoch: 0 };
  const x = tf.zeros([4, SIZE, SIZE, 1]);
  const cases: [string, () => unknown, string][] = [
    [
      'y shorter than x (mismatched lengths)',
      () => train.trainStep(net, opt, loss, x, tf.tensor1d([0, 1, 2], 'int32'), ctx),
      'y',
    ],
    [
      'y float32 labels',
      () => train.trainStep(net, opt, loss, x, tf.tensor1d([0, 1, 2, 3]), ctx),
      'y',
    ],
    [
      'y label K (out of range)',
      () => train.trainStep(net, opt, loss, x, tf.tensor1d([0, 1, 2, 4], 'int32'), ctx),
      'y',
    ],
    [
      'x of another image size',
      () =>
        train.trainStep(
          net,
          opt,
          loss,
          tf.zeros([4, 9, 9, 1]),
          tf.tensor1d([0, 1, 2, 3], 'int32'),
          ctx,
        ),
      'x',
    ],
    [
      'loss a string',
      () =>
        train.trainStep(
          net,
          opt,
          'ce' as unknown as train.TrainLoss,
          x,
          tf.tensor1d([0, 1, 2, 3], 'int32'),
          ctx,
        ),
      'loss',
    ],
  ];
  for (const [what, run, arg] of cases) {
    it(what, async () => {
      const w0 = net.getWeights().map((t) => Array.from(t.dataSync()));
      // the labels made inside run are counted as leaked unless disposed: wrap in tidy
      await expectBadInput({ call: what, run: () => tf.tidy(() => run() as never), arg });
      expect(net.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(w0);
    });
  }

  it('the loss cells: x and y of different lengths are refused naming y', async () => {
    setSeed(2);
    const bnet = tf.sequential({
      layers: [new layers.ESTIMATOR_CLASSES.flipout.dense({ inputShape: [3], units: K })],
    });
    const cell = new layers.ELBOLoss(bnet, { datasetSize: 10 });
    const o = tf.train.adam(0.01);
    const xb = tf.zeros([5, 3]);
    const yb = tf.tensor1d([0, 1, 2], 'int32');
    await expectBadInput({ call: 'cell', run: () => cell.trainStep(o, xb, yb), arg: 'y' });
    const wcell = new layers.WithBNNLoss(bnet, 'meanSquaredError');
    const yr = tf.zeros([4, K]);
    await expectBadInput({ call: 'cell mse', run: () => wcell.trainStep(o, xb, yr), arg: 'y' });
    tf.dispose([xb, yb, yr]);
    o.dispose();
    bnet.dispose();
  });
});

describe('train.evaluate against a float64 recomputation', () => {
  it('plain model: accuracy, NLL and entropy per image; no tensor left', async () => {
    const set = bands(30, SIZE, K);
    const net = smallNet();
    const batcher = new data.Batcher(set, { batchSize: 7, shuffle: false });
    const before = tf.memory().numTensors;
    const r = await train.evaluate(net, batcher, {});
    expect(tf.memory().numTensors).toBe(before);
    // reference: logits of all images, float64 softmax on the host
    let correct = 0;
    let nll = 0;
    let ent = 0;
    for (const b of batcher.batches(0)) {
      const logits = (net.predict(b.x) as tf.Tensor).arraySync() as number[][];
      const ys = Array.from(b.y.dataSync());
      logits.forEach((row, i) => {
        const m = Math.max(...row);
        const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
        const p = row.map((v) => Math.exp(v - m) / z);
        const y = ys[i] as number;
        if (row.indexOf(m) === y) correct++;
        nll -= Math.log(p[y] as number);
        ent -= p.reduce((s, q) => s + (q > 0 ? q * Math.log(q) : 0), 0);
      });
      tf.dispose(b.x);
      b.dispose();
    }
    expect(r.count).toBe(30);
    expect(r.accuracy).toBeCloseTo(correct / 30, 10);
    expect(r.nll).toBeCloseTo(nll / 30, 4);
    expect(r.entropy).toBeCloseTo(ent / 30, 4);
    net.dispose();
  });

  it('Bayesian model: mean-weights accuracy equals a frozen pass; MI >= 0; entropy = expected + MI', async () => {
    setSeed(4);
    const set = bands(24, SIZE, K);
    const net = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [SIZE, SIZE, 1] }),
        new layers.ESTIMATOR_CLASSES.local.dense({ units: 6, activation: 'relu' }),
        new layers.ESTIMATOR_CLASSES.reparam.dense({ units: K }),
      ],
    });
    const batcher = new data.Batcher(set, { batchSize: 8, shuffle: false });
    const before = tf.memory().numTensors;
    const r = await train.evaluate(net, batcher, {
      kind: 'bayesian',
      mcSamples: 5,
      setMode: (m, mode) => {
        layers.setMode(m, mode);
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    const modes = layers.setMode(net, 'mean');
    let correct = 0;
    for (const b of batcher.batches(0)) {
      const pred = tf.tidy(() =>
        Array.from(tf.argMax(net.predict(b.x) as tf.Tensor, -1).dataSync()),
      );
      const ys = Array.from(b.y.dataSync());
      pred.forEach((p, i) => {
        if (p === ys[i]) correct++;
      });
      b.dispose();
    }
    layers.restoreModes(net, modes);
    expect(r.accuracyMean).toBeCloseTo(correct / 24, 10);
    expect(r.mcSamples).toBe(5);
    expect(r.mutualInformation).toBeGreaterThanOrEqual(-1e-6);
    expect(r.expectedEntropy).toBeDefined();
    expect(r.entropy).toBeCloseTo(
      (r.expectedEntropy as number) + (r.mutualInformation as number),
      4,
    );
    net.dispose();
  });

  it('bad options are refused naming them', async () => {
    const net = smallNet();
    const batcher = new data.Batcher(bands(8, SIZE, K), { batchSize: 4 });
    await expectBadInput({
      call: 'mcSample typo',
      run: () => train.evaluate(net, batcher, { mcSample: 3 } as unknown as train.EvaluateOptions),
      arg: 'mcSample',
    });
    await expectBadInput({
      call: 'mcSamples 0',
      run: () =>
        train.evaluate(net, batcher, { kind: 'bayesian', mcSamples: 0, setMode: () => {} }),
      arg: 'mcSamples',
    });
    await expectBadInput({
      call: 'kind bnn',
      run: () => train.evaluate(net, batcher, { kind: 'bnn' as never }),
      arg: 'kind',
    });
    net.dispose();
  });
});

describe('the KL schedules follow their formulas', () => {
  it('blundell, uniform/standard, soenderby (per epoch and per step), constant, numeric strings', () => {
    for (const M of [1, 2, 5, 60, 2000]) {
      const s = layers.klSchedule('blundell');
      let sum = 0;
      for (let i = 0; i < M; i++) {
        const b = s({ step: i, numBatches: M, epoch: 0 });
        // 2^(M-i-1) / (2^M - 1), i 0-based; float64 via log space for large M
        const ref =
          M <= 50
            ? Math.pow(2, M - i - 1) / (Math.pow(2, M) - 1)
            : Math.pow(2, -(i + 1)) / (1 - Math.pow(2, -M));
        expect(b).toBeCloseTo(ref, 12);
        expect(Number.isFinite(b)).toBe(true);
        sum += b;
      }
      expect(sum).toBeCloseTo(1, 10);
      expect(layers.klSchedule('standard')({ step: 0, numBatches: M, epoch: 3 })).toBeCloseTo(
        1 / M,
        14,
      );
    }
    const so = layers.klSchedule('soenderby');
    // warm-up floor(8 / 4) = 2 epochs: 0, 0.5, 1, 1
    expect([0, 1, 2, 3].map((e) => so({ step: 0, numBatches: 4, epoch: e, numEpochs: 8 }))).toEqual(
      [0, 0.5, 1, 1],
    );
    const ps = layers.soenderbyKL({ warmupEpochs: 2, perStep: true });
    expect(ps({ step: 2, numBatches: 4, epoch: 1 })).toBeCloseTo((1 + 2 / 4) / 2, 14);
    expect(layers.klSchedule('constant')({ step: 0, numBatches: 1, epoch: 0 })).toBe(1);
    expect(layers.parseKLWeight('1e-3')).toBe(1e-3);
    expect(layers.parseKLWeight(' 0.5 ')).toBe(0.5);
    // BayesianCNN's spelling is accepted (audit17): 'Blundell' is 'blundell'
    expect(layers.parseKLWeight('Blundell')).toBe('blundell');
    for (const bad of ['', ' ', '-1', 'NaN', 'Infinity', 'blundel', 'Blundel']) {
      expect(() => layers.parseKLWeight(bad), bad).toThrow(
        expect.objectContaining({ argument: 'klWeight' }),
      );
    }
    expect(() => layers.blundellKL()({ step: 3, numBatches: 3, epoch: 0 })).toThrow(
      expect.objectContaining({ argument: 'step' }),
    );
  });
});

describe('estimators as data: every registered estimator', () => {
  for (const e of layers.ESTIMATOR_NAMES) {
    it(`${e}: the zoo twin, its classes by name, and a save/load round trip with equal frozen outputs`, async () => {
      expect(layers.isEstimator(e)).toBe(true);
      expect(layers.checkEstimator(e)).toBe(e);
      setSeed(3);
      const C = layers.ESTIMATOR_CLASSES[e];
      const net = tf.sequential({
        layers: [
          new C.conv({
            inputShape: [SIZE, SIZE, 1],
            filters: 2,
            kernelSize: 3,
            activation: 'relu',
          }),
          tf.layers.flatten(),
          new C.dense({ units: 5, activation: 'relu' }),
          new C.mopedDense({ units: K }),
        ],
      });
      const suffix = layers.ESTIMATORS[e].suffix;
      expect(net.layers.map((l) => l.getClassName())).toEqual([
        `Conv${suffix}`,
        'Flatten',
        `Dense${suffix}`,
        `MopedDense${suffix}`,
      ]);
      const x = tf.randomUniform([3, SIZE, SIZE, 1], 0, 1, 'float32', 5);
      const back = await saveAndLoad(net);
      const m1 = layers.setMode(net, 'mean');
      const m2 = layers.setMode(back, 'mean');
      const a = tf.tidy(() => Array.from((net.predict(x) as tf.Tensor).dataSync()));
      const b = tf.tidy(() => Array.from((back.predict(x) as tf.Tensor).dataSync()));
      layers.restoreModes(net, m1);
      layers.restoreModes(back, m2);
      expect(back.layers.map((l) => l.getClassName())).toEqual(
        net.layers.map((l) => l.getClassName()),
      );
      b.forEach((v, i) => expect(v).toBeCloseTo(a[i] as number, 6));
      // the zoo builds its Bayesian twin with this estimator's classes
      const zoo = models.createModel('bayes-lenet5', {
        numClasses: 3,
        inputShape: [16, 16, 1],
        bayesian: e,
      });
      const names = layers.bayesianLayers(zoo).map((l) => l.getClassName());
      expect(names.length).toBeGreaterThan(0);
      for (const n of names) expect(n.endsWith(suffix)).toBe(true);
      tf.dispose(x);
      [net, back, zoo].forEach((m) => layers.disposeModel(m));
    });
  }

  it('an unknown estimator is refused by the zoo and the checks naming it', async () => {
    expect(layers.isEstimator('bbb')).toBe(false);
    expect(layers.isEstimator('toString')).toBe(false);
    expect(() => layers.checkEstimator('toString')).toThrow(
      expect.objectContaining({ argument: 'estimator' }),
    );
    await expectBadInput({
      call: 'zoo bayesian bbb',
      run: () =>
        models.createModel('bayes-lenet5', {
          numClasses: 3,
          inputShape: [16, 16, 1],
          bayesian: 'bbb' as never,
        }),
      arg: /bayesian|estimator/,
    });
  });
});

describe('crossEntropyLoss reads the model head as train.evaluate does', () => {
  it('a softmax-ended classifier: the reported NLL is -log p_y (not a second softmax)', async () => {
    const set = bands(16, SIZE, K);
    const net = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [SIZE, SIZE, 1] }),
        tf.layers.dense({
          units: K,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
      ],
    });
    const batcher = new data.Batcher(set, { batchSize: 16, shuffle: false });
    // reference before the (frozen, lr 0) step: float64 -log p_y of the softmax outputs
    let nll = 0;
    for (const b of batcher.batches(0)) {
      const p = (net.predict(b.x) as tf.Tensor).arraySync() as number[][];
      const ys = Array.from(b.y.dataSync());
      p.forEach((row, i) => (nll -= Math.log(row[ys[i] as number] as number)));
      tf.dispose(b.x);
      b.dispose();
    }
    const opt = tf.train.sgd(0);
    const [r] = await train.fit(net, {
      optimizer: opt,
      loss: train.crossEntropyLoss(),
      train: batcher,
      epochs: 1,
    });
    opt.dispose();
    expect(r?.trainNll).toBeCloseTo(nll / 16, 4);
    const ev = await train.evaluate(net, batcher, {});
    expect(ev.nll).toBeCloseTo(nll / 16, 4);
    net.dispose();
  });
});

describe('image-set loops refuse models that are not one input to one output', () => {
  it('train.fit and train.evaluate name model for a two-input functional model', async () => {
    const ia = tf.input({ shape: [SIZE, SIZE, 1] });
    const ib = tf.input({ shape: [2] });
    const f = tf.layers.flatten().apply(ia) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: K })
      .apply(tf.layers.concatenate().apply([f, ib]) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const m = tf.model({ inputs: [ia, ib], outputs: out });
    const batcher = new data.Batcher(bands(8, SIZE, K), { batchSize: 4 });
    const opt = tf.train.adam(0.01);
    await expectBadInput({
      call: 'fit',
      run: () =>
        train.fit(m, { optimizer: opt, loss: train.crossEntropyLoss(), train: batcher, epochs: 1 }),
      arg: 'model',
      message: /2 inputs/,
    });
    await expectBadInput({
      call: 'evaluate',
      run: () => train.evaluate(m, batcher, {}),
      arg: 'model',
      message: /2 inputs/,
    });
    opt.dispose();
    m.dispose();
  });
});

describe('the loss cells speak the same KL vocabulary', () => {
  it('ELBOLoss/elboLoss refuse a misspelt option or schedule naming it; a numeric string is a weight', () => {
    setSeed(1);
    const m = tf.sequential({
      layers: [new layers.ESTIMATOR_CLASSES.local.dense({ inputShape: [2], units: 2 })],
    });
    const bad: [() => unknown, string][] = [
      [() => new layers.ELBOLoss(m, { datasetSize: 10, klWeight: 'blundel' as never }), 'klWeight'],
      [() => new layers.ELBOLoss(m, { datasetsize: 10 } as never), 'datasetsize'],
      [() => new layers.ELBOLoss(m, { datasetSize: 0 }), 'datasetSize'],
      [() => train.elboLoss({ datasetSize: 10, klWeight: -0.5 }), 'klWeight'],
      [() => train.elboLoss({ datasetSize: 10, samples: 0 }), 'samples'],
      [() => train.elboLoss({ datasetSize: 10, kl_weight: 1 } as never), 'kl_weight'],
    ];
    for (const [run, arg] of bad) {
      expect(run, arg).toThrow(expect.objectContaining({ argument: arg }));
    }
    // the same weight written three ways gives the same factor beta / N
    const ctx = { step: 1, numBatches: 4, epoch: 0 };
    const f = ['0.25', 0.25, () => 0.25].map((w) =>
      new layers.ELBOLoss(m, { datasetSize: 8, klWeight: w as never }).klFactor(2, ctx),
    );
    expect(f).toEqual([0.25 / 8, 0.25 / 8, 0.25 / 8]);
    // 'uniform' = 1/M with M from the context
    expect(new layers.ELBOLoss(m, { datasetSize: 8, klWeight: 'uniform' }).klWeight(2, ctx)).toBe(
      0.25,
    );
    m.dispose();
  });
});
