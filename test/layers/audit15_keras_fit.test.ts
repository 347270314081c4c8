/**
 * Audit of issue #13 on the Keras path of the Bayesian-layers guide (`compileBayesian` + tfjs's
 * `model.fit`), on models the tests have not seen: a functional two-input Bayesian classifier with
 * BatchNorm and Dropout for each registered estimator, and a Bayesian regression whose reported
 * loss is checked against `NLL + beta KL / N` recomputed from the layers.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, setSeed } from '../../src/index.js';

function twoInputData(n: number): { a: number[][]; b: number[][]; y: number[] } {
  let s = 7;
  const u = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const a: number[][] = [];
  const b: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const ra = [u(), u(), u(), u()];
    const rb = [u(), u()];
    const sc = [ra[0]! + rb[0]!, ra[1]! - rb[1]!, ra[2]! + ra[3]!];
    a.push(ra);
    b.push(rb);
    y.push(sc.indexOf(Math.max(...sc)));
  }
  return { a, b, y };
}

describe('compileBayesian + model.fit on a functional two-input model with BatchNorm and Dropout', () => {
  for (const e of layers.ESTIMATOR_NAMES) {
    it(`${e}: the loss falls, validation runs, no tensor left`, async () => {
      setSeed(8);
      const C = layers.ESTIMATOR_CLASSES[e];
      const ia = tf.input({ shape: [4] });
      const ib = tf.input({ shape: [2] });
      let h = new C.dense({ units: 12, priorSigma: 1 }).apply(ia) as tf.SymbolicTensor;
      h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
      h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.dropout({ rate: 0.1 }).apply(h) as tf.SymbolicTensor;
      const g = new C.dense({ units: 6, activation: 'relu', priorSigma: 1 }).apply(
        ib,
      ) as tf.SymbolicTensor;
      const cat = tf.layers.concatenate().apply([h, g]) as tf.SymbolicTensor;
      const out = new C.dense({ units: 3, activation: 'softmax', priorSigma: 1 }).apply(
        cat,
      ) as tf.SymbolicTensor;
      const model = tf.model({ inputs: [ia, ib], outputs: out });
      const d = twoInputData(120);
      const xa = tf.tensor2d(d.a);
      const xb = tf.tensor2d(d.b);
      const y = tf.oneHot(tf.tensor1d(d.y, 'int32'), 3);
      const before = tf.memory().numTensors;
      const opt = tf.train.adam(0.02);
      layers.compileBayesian(model, {
        datasetSize: 108,
        optimizer: opt,
        loss: 'categoricalCrossentropy',
        metrics: ['accuracy'],
      });
      const h1 = await model.fit([xa, xb], y, {
        epochs: 25,
        batchSize: 20,
        validationSplit: 0.1,
        verbose: 0,
        shuffle: false,
      });
      const loss = h1.history.loss as number[];
      const val = h1.history.val_loss as number[];
      expect(loss).toHaveLength(25);
      expect(val).toHaveLength(25);
      expect(loss.every(Number.isFinite) && val.every(Number.isFinite)).toBe(true);
      const head = (loss[0]! + loss[1]!) / 2;
      const tail = (loss[23]! + loss[24]!) / 2;
      expect(tail).toBeLessThan(0.75 * head);
      opt.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([xa, xb, y]);
      layers.disposeModel(model);
    });
  }
});

describe('compileBayesian: the loss model.fit reports is NLL + beta KL / N', () => {
  it('a frozen Bayesian regression (lr 0) reports mse + beta * KL / N per batch', async () => {
    setSeed(2);
    const model = tf.sequential({
      layers: [
        new layers.ESTIMATOR_CLASSES.reparam.dense({ inputShape: [3], units: 1, priorSigma: 0.5 }),
      ],
    });
    const n = 32;
    const x = tf.randomNormal([n, 3], 0, 1, 'float32', 3);
    const y = tf.randomNormal([n, 1], 0, 1, 'float32', 4);
    const beta = 0.3;
    layers.compileBayesian(model, {
      datasetSize: n,
      klWeight: beta,
      optimizer: tf.train.sgd(0),
      loss: 'meanSquaredError',
    });
    // with one batch of all N, mean-mode weights are not used: the reported loss is a sample; the
    // KL part is exact: loss - mse(sample) = beta KL / N. Average over passes by evaluating KL only:
    const kl = tf.tidy(() => layers.modelKL(model).dataSync()[0] as number);
    const losses: number[] = [];
    for (let r = 0; r < 30; r++) {
      const h = await model.fit(x, y, { epochs: 1, batchSize: n, verbose: 0 });
      losses.push((h.history.loss as number[])[0] as number);
    }
    // E[mse over w ~ q] for a linear layer: ||X mu + b - y||^2 / N + mean_i (x_i^2 . sigma^2 + sigma_b^2)
    const w = model.getWeights().map((t) => Array.from(t.dataSync()));
    const names = model.weights.map((v) => v.originalName ?? v.name);
    const get = (re: RegExp): number[] => w[names.findIndex((nm) => re.test(nm))] as number[];
    const muK = get(/kernel.*mu|mu.*kernel|W_mu|weight_mu/i);
    const rhoK = get(/kernel.*rho|rho.*kernel|W_rho|weight_rho/i);
    const muB = get(/bias.*mu|mu.*bias|bias_mu/i);
    const rhoB = get(/bias.*rho|rho.*bias|bias_rho/i);
    const sp = (r: number): number => Math.log1p(Math.exp(r));
    const X = x.arraySync() as number[][];
    const Y = (y.arraySync() as number[][]).map((r) => r[0] as number);
    let expMse = 0;
    X.forEach((row, i) => {
      const mean = row.reduce((s, v, j) => s + v * muK[j]!, muB[0]!);
      const variance = row.reduce((s, v, j) => s + v * v * sp(rhoK[j]!) ** 2, sp(rhoB[0]!) ** 2);
      expMse += (mean - Y[i]!) ** 2 + variance;
    });
    expMse /= n;
    const mean = losses.reduce((s, v) => s + v, 0) / losses.length;
    const sd = Math.sqrt(losses.reduce((s, v) => s + (v - mean) ** 2, 0) / (losses.length - 1));
    const want = expMse + (beta * kl) / n;
    expect(Math.abs(mean - want)).toBeLessThan(4 * (sd / Math.sqrt(losses.length)) + 1e-4);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('bad arguments are named', () => {
    const m = tf.sequential({
      layers: [new layers.ESTIMATOR_CLASSES.local.dense({ inputShape: [2], units: 2 })],
    });
    const opt = tf.train.adam();
    const bad: [object, string][] = [
      [{ datasetSize: 0, optimizer: opt, loss: 'meanSquaredError' }, 'datasetSize'],
      [{ datasetSize: 10, klWeight: -1, optimizer: opt, loss: 'meanSquaredError' }, 'klWeight'],
      [
        { datasetSize: 10, optimizer: opt, loss: 'meanSquaredError', lossWeights: [1] },
        'lossWeights',
      ],
      [
        { datasetSize: 10, optimizer: opt, loss: 'meanSquaredError', datasetsize: 3 },
        'datasetsize',
      ],
    ];
    for (const [args, name] of bad) {
      expect(() => layers.compileBayesian(m, args as layers.CompileBayesianArgs), name).toThrow(
        expect.objectContaining({ argument: name }),
      );
    }
    const plain = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 2 })] });
    expect(() =>
      layers.compileBayesian(plain, { datasetSize: 10, optimizer: opt, loss: 'meanSquaredError' }),
    ).toThrow(expect.objectContaining({ argument: 'model' }));
    opt.dispose();
    m.dispose();
    plain.dispose();
  });
});
