/**
 * The Bayesian losses: cross-entropy against a float64 reference, KL schedules against their
 * formulas, WithBNNLoss / ELBOLoss composition, training with a decreasing loss, and no tensor
 * leak over 50 training steps (after the optimizer's slots exist).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blundellKL,
  constantKL,
  ConvLocalReparam,
  DenseFlipout,
  DenseReparam,
  ELBOLoss,
  klSchedule,
  meanSquaredError,
  modelKL,
  soenderbyKL,
  softmaxCrossEntropy,
  uniformKL,
  WithBNNLoss,
} from '../../src/layers/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';
import { fixedArray } from './reference.js';

beforeAll(() => setSeed(3));
afterAll(() => clearSeed());

describe('softmaxCrossEntropy', () => {
  const logits = [
    [2, -1, 0.5],
    [0, 0, 3],
    [-2, 1, 1],
  ];
  const labels = [0, 2, 1];
  const ref =
    labels
      .map((c, i) => {
        const z = logits[i]!;
        const m = Math.max(...z);
        const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
        return lse - z[c]!;
      })
      .reduce((a, b) => a + b) / 3;

  it('matches a float64 reference for integer, float and one-hot labels', () => {
    const z = tf.tensor2d(logits);
    const li = tf.tensor1d(labels, 'int32');
    const lf = tf.tensor1d(labels, 'float32');
    const oh = tf.oneHot(li, 3);
    const [a] = expectNoLeak(() => softmaxCrossEntropy(z, li));
    const [b] = expectNoLeak(() => softmaxCrossEntropy(z, lf));
    const [c] = expectNoLeak(() => softmaxCrossEntropy(z, oh));
    expect(a).toBeAllclose(ref, { rtol: 1e-5 });
    expect(b).toBeAllclose(ref, { rtol: 1e-5 });
    expect(c).toBeAllclose(ref, { rtol: 1e-5 });
    const bad = [
      tf.tensor1d([0, 1]),
      tf.zeros([3, 4]),
      tf.tensor1d([1, 2]),
      tf.tensor1d([0, 4]),
      tf.tensor1d([1]),
    ];
    expect(() => softmaxCrossEntropy(z, bad[0]!)).toThrow(/labels.*\[3\]/);
    expect(() => softmaxCrossEntropy(z, bad[1]!)).toThrow(/labels/);
    const [m] = expectNoLeak(() => meanSquaredError(bad[2]!, bad[3]!));
    expect(m).toBeAllclose(2.5);
    expect(() => meanSquaredError(bad[2]!, bad[4]!)).toThrow(/target/);
    tf.dispose([z, li, lf, oh, ...bad]);
  });
});

describe('KL schedules', () => {
  it('follow their formulas', () => {
    const b = blundellKL();
    expect([0, 1, 2].map((step) => b({ step, numBatches: 3, epoch: 0 }))).toBeAllclose([
      4 / 7,
      2 / 7,
      1 / 7,
    ]);
    const M = 2000; // 2^M overflows a double: the schedule must stay finite and sum to 1
    let sum = 0;
    for (let step = 0; step < M; step++) sum += b({ step, numBatches: M, epoch: 0 });
    expect(sum).toBeAllclose(1, { rtol: 1e-12 });
    expect(uniformKL()({ step: 4, numBatches: 8, epoch: 1 })).toBe(1 / 8);
    const s = soenderbyKL();
    expect(
      [0, 1, 2, 3].map((epoch) => s({ step: 0, numBatches: 10, epoch, numEpochs: 8 })),
    ).toEqual([0, 0.5, 1, 1]);
    expect(
      soenderbyKL({ warmupEpochs: 2, perStep: true })({ step: 5, numBatches: 10, epoch: 0 }),
    ).toBe(0.25);
    expect(() => s({ step: 0, numBatches: 10, epoch: 0 })).toThrow(/numEpochs/);
    expect(constantKL(0.1)({ step: 0, numBatches: 1, epoch: 0 })).toBe(0.1);
    expect(klSchedule(0.3)({ step: 0, numBatches: 1, epoch: 0 })).toBe(0.3);
    expect(klSchedule('standard')({ step: 0, numBatches: 4, epoch: 0 })).toBe(0.25);
    expect(() => klSchedule('cosine' as 'uniform')).toThrow(/klWeight/);
    expect(() => constantKL(-1)).toThrow(/klWeight/);
    expect(() => b({ step: 3, numBatches: 3, epoch: 0 })).toThrow(/step/);
  });
});

function smallModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      new ConvLocalReparam({
        inChannels: 1,
        outChannels: 3,
        kernelSize: 3,
        inputShape: [6, 6, 1],
        activation: 'relu',
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      new DenseFlipout({ outChannels: 8, activation: 'relu' }),
      new DenseReparam({ outChannels: 3 }),
    ],
  });
}

function toyData(n: number): { x: tf.Tensor; y: tf.Tensor } {
  // class = which third of the image is brightest
  const xs = fixedArray(n * 36, 9, 0, 0.3);
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    ys.push(c);
    for (let r = 0; r < 6; r++)
      for (let col = 2 * c; col < 2 * c + 2; col++) xs[i * 36 + r * 6 + col]! += 1;
  }
  return { x: tf.tensor4d(xs, [n, 6, 6, 1]), y: tf.tensor1d(ys, 'int32') };
}

describe('WithBNNLoss and ELBOLoss', () => {
  it('compose the data loss and the summed KL as documented', () => {
    const model = smallModel();
    const { x, y } = toyData(12);
    tf.dispose(model.predict(x) as tf.Tensor);
    const cell = new WithBNNLoss(model, 'softmaxCrossEntropy', 3, 0.5);
    const before = tf.memory().numTensors;
    const vals = tf.tidy(() => {
      const r = cell.compute(x, y);
      const ce = softmaxCrossEntropy(r.output, y);
      const kl = modelKL(model);
      return [r.loss, r.nll, r.kl, ce, kl].map((t) => t.dataSync()[0] as number);
    });
    expect(tf.memory().numTensors).toBe(before);
    const [loss, nll, kl, ce, kl2] = vals as [number, number, number, number, number];
    expect(nll).toBeAllclose(ce, { rtol: 1e-6 });
    expect(kl).toBeAllclose(kl2, { rtol: 1e-6 }); // Normal priors: analytic, deterministic
    expect(loss).toBeAllclose(3 * nll + 0.5 * kl, { rtol: 1e-5 });

    const elbo = new ELBOLoss(model, { datasetSize: 600, klWeight: 'blundell' });
    const r2 = tf.tidy(() => {
      const r = elbo.compute(x, y, { step: 1, epoch: 0 }); // M = ceil(600 / 12) = 50
      return {
        v: [r.loss, r.nll, r.kl].map((t) => t.dataSync()[0] as number),
        f: elbo.klFactor(12, { step: 1, epoch: 0 }),
      };
    });
    const beta = Math.pow(2, -2) / (1 - Math.pow(2, -50));
    expect(r2.f).toBeAllclose(beta / 600, { rtol: 1e-12 });
    expect(r2.v[0]).toBeAllclose(r2.v[1]! + (beta * r2.v[2]!) / 600, { rtol: 1e-5 });
    expect(elbo.klWeight(12, { step: 0, numBatches: 3 })).toBeAllclose(4 / 7);

    expect(() => cell.compute(x, tf.tensor1d([0, 1], 'int32'))).toThrow(/y: expected 12 targets/);
    expect(() => new ELBOLoss(model, { datasetSize: 0 })).toThrow(/datasetSize/);
    expect(() => new WithBNNLoss(model, 'softmaxCrossEntropy', -1)).toThrow(/dnnFactor/);
    expect(() => new WithBNNLoss(model, 'hinge' as 'mse')).toThrow(/lossFn/);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('trains (loss falls) with gradients to every weight, and does not leak over 50 steps', () => {
    const model = smallModel();
    const { x, y } = toyData(30);
    const elbo = new ELBOLoss(model, { datasetSize: 30, klWeight: 1 });
    const opt = tf.train.adam(0.02);
    // every trainable weight gets a gradient
    const { value, grads } = tf.variableGrads(
      () => elbo.compute(x, y).loss,
      model.trainableWeights.map((w) => w.read() as tf.Variable),
    );
    expect(Object.keys(grads)).toHaveLength(model.trainableWeights.length);
    tf.dispose([value, ...Object.values(grads)]);

    // warm-up step creates Adam's slots
    const first = elbo.trainStep(opt, x, y, { step: 0, epoch: 0 }, { keepOutput: true });
    expect(first.output?.shape).toEqual([30, 3]);
    const firstLoss = first.loss.dataSync()[0] as number;
    tf.dispose([first.loss, first.nll, first.kl, first.output!]);
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let i = 0; i < 50; i++) {
      if (i % 2 === 0) {
        const r = elbo.trainStep(opt, x, y, { step: 0, epoch: i });
        losses.push(r.nll.dataSync()[0] as number);
        expect(elbo.klFactor(30, { step: 0, epoch: i })).toBeAllclose(1 / 30);
        tf.dispose([r.loss, r.nll, r.kl]);
      } else {
        // the plain optimizer.minimize pattern of a training loop
        const cost = opt.minimize(() => elbo.compute(x, y, { step: 0, epoch: i }).loss, true);
        cost?.dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    const lateNll = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(lateNll).toBeLessThan(0.6 * firstLoss);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('ELBOLoss.trainStep argument checks', () => {
  it('refuses bad labels, inputs and optimizers before any work, leaking no tensor', () => {
    const model = smallModel();
    const { x, y } = toyData(4);
    const elbo = new ELBOLoss(model, { datasetSize: 4 });
    const opt = tf.train.adam(0.01);
    // create Adam's slots first so that a failing call would show any leak
    const ok = elbo.trainStep(opt, x, y);
    tf.dispose([ok.loss, ok.nll, ok.kl]);
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    const bad: [string, () => unknown, RegExp][] = [
      [
        'label = K',
        () => tf.tensor1d([0, 1, 2, 3], 'int32'),
        /y: expected class indices \(integers in \[0, 3\)\), got 3/,
      ],
      ['negative label', () => tf.tensor1d([0, -1, 2, 1], 'int32'), /y: .*got -1 at index 1/],
      ['fractional label', () => tf.tensor1d([0, 0.5, 2, 1]), /y: .*got 0\.5/],
      ['NaN label', () => tf.tensor1d([0, NaN, 2, 1]), /y: .*got NaN/],
      ['too few labels', () => tf.tensor1d([0, 1], 'int32'), /y: expected 4 labels/],
      ['bool labels', () => tf.tensor1d([1, 0, 1, 0], 'bool'), /y: expected int32 or float32/],
      ['rank 3 labels', () => tf.zeros([4, 3, 1]), /y: expected class indices of shape \[4\]/],
      [
        'one-hot of 4 classes',
        () => tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4),
        /y: expected class indices of shape/,
      ],
      ['rows not summing to 1', () => tf.ones([4, 3]), /y: .*summing to 1/],
      ['not a tensor', () => [0, 1, 2, 0], /y: expected a live tf.Tensor/],
    ];
    for (const [what, make, msg] of bad) {
      const label = make();
      const before = tf.memory().numTensors;
      expect(() => elbo.trainStep(opt, x, label as tf.Tensor), what).toThrow(msg);
      expect(tf.memory().numTensors, what).toBe(before);
      if (label instanceof tf.Tensor) label.dispose();
    }
    const before = tf.memory().numTensors;
    expect(() => elbo.trainStep({} as tf.Optimizer, x, y)).toThrow(
      /optimizer: expected a tf.Optimizer/,
    );
    expect(() => elbo.trainStep(opt, [1] as unknown as tf.Tensor, y)).toThrow(
      /x\[0\]: expected a live/,
    );
    expect(() => elbo.trainStep(opt, 'x' as unknown as tf.Tensor, y)).toThrow(/x: expected a live/);
    expect(tf.memory().numTensors).toBe(before);
    // no step was taken by the failing calls
    model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(weights[i]));
    // soft labels and float class indices are accepted
    for (const label of [tf.tensor1d([0, 1, 2, 0]), tf.fill([4, 3], 1 / 3)]) {
      const r = elbo.trainStep(opt, x, label);
      expect(Number.isFinite(r.loss.dataSync()[0])).toBe(true);
      tf.dispose([r.loss, r.nll, r.kl, label]);
    }
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('WithBNNLoss on a one-output binary classifier and on wrong targets', () => {
  const x = [
    [0.5, -1, 2],
    [-0.3, 0.8, 0.1],
    [1.2, 0.4, -0.7],
    [-1.5, -0.2, 0.9],
  ];
  const y = [1, 0, 1, 0];

  function binaryNet(activation: 'sigmoid' | 'linear'): tf.LayersModel {
    const m = tf.sequential({
      layers: [
        new DenseReparam({ inChannels: 3, outChannels: 2, activation: 'tanh', inputShape: [3] }),
        tf.layers.dense({ units: 1, activation, kernelInitializer: 'glorotNormal' }),
      ],
    });
    return m;
  }

  it.each(['sigmoid', 'linear'] as const)(
    "reads a one-output '%s' head as Bernoulli: the data term is its NLL (float64 reference)",
    (activation) => {
      const model = binaryNet(activation);
      const cell = new WithBNNLoss(model, undefined, 1, 0.5);
      const xt = tf.tensor2d(x);
      const yt = tf.tensor1d(y, 'int32');
      const before = tf.memory().numTensors;
      const [nll, out] = tf.tidy(() => {
        const r = cell.compute(xt, yt);
        return [r.nll.dataSync()[0] as number, Array.from(r.output.dataSync())];
      });
      expect(tf.memory().numTensors).toBe(before);
      const ref =
        -out.reduce((s, o, i) => {
          const p = activation === 'sigmoid' ? o : 1 / (1 + Math.exp(-o));
          return s + (y[i] === 1 ? Math.log(p) : Math.log(1 - p));
        }, 0) / y.length;
      expect(nll).toBeAllclose(ref, { rtol: 1e-5 });
      // and it trains, through the documented optimizer.minimize call
      const opt = tf.train.adam(0.05);
      const losses: number[] = [];
      for (let i = 0; i < 40; i++) {
        const l = opt.minimize(() => cell.compute(xt, yt).nll, true) as tf.Scalar;
        losses.push(l.dataSync()[0] as number);
        l.dispose();
      }
      expect(losses[39]!).toBeLessThan(losses[0]!);
      opt.dispose();
      tf.dispose([xt, yt]);
      model.dispose();
    },
  );

  it('refuses targets of the wrong shape before the forward pass, leaving no tensor behind', () => {
    const model = binaryNet('sigmoid');
    const cell = new WithBNNLoss(model);
    const xt = tf.tensor2d(x);
    const opt = tf.train.adam(0.01);
    const bad = tf.zeros([4, 5]);
    const before = tf.memory().numTensors;
    expect(() => opt.minimize(() => cell.compute(xt, bad).loss)).toThrow(
      /y: expected class indices \[4\] or one-hot rows \[4, 2\], got \[4, 5\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const mse = new WithBNNLoss(model, 'mse');
    expect(() => opt.minimize(() => mse.compute(xt, bad).loss)).toThrow(
      /y: expected targets of the output's shape \[4, 1\], got \[4, 5\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    tf.dispose([xt, bad]);
    model.dispose();
  });
});

describe('loss cells on a multi-input model (x as an array of tensors, tfjs convention)', () => {
  /** inputs a [2], b [1] -> concatenate -> DenseReparam(3 -> 2), and the same layer on [3]. */
  function twins(): { two: tf.LayersModel; one: tf.LayersModel } {
    const a = tf.input({ shape: [2] });
    const b = tf.input({ shape: [1] });
    const c = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    const dense = new DenseReparam({ inChannels: 3, outChannels: 2 });
    const two = tf.model({ inputs: [a, b], outputs: dense.apply(c) as tf.SymbolicTensor });
    const i = tf.input({ shape: [3] });
    const dense1 = new DenseReparam({ inChannels: 3, outChannels: 2 });
    const one = tf.model({ inputs: i, outputs: dense1.apply(i) as tf.SymbolicTensor });
    dense1.setWeights(dense.getWeights());
    return { two, one };
  }

  it('compute and trainStep equal those of the one-input twin on the concatenated inputs', () => {
    const { two, one } = twins();
    const xa = tf.tensor2d([
      [0.1, -0.4],
      [0.7, 0.2],
      [-0.3, 0.9],
      [0.5, 0.5],
    ]);
    const xb = tf.tensor2d([[1], [-1], [0.5], [0]]);
    const xc = tf.concat([xa, xb], 1);
    const y = tf.tensor1d([0, 1, 1, 0], 'int32');
    for (const [make, name] of [
      [(m: tf.LayersModel) => new WithBNNLoss(m, 'softmaxCrossEntropy', 1, 0.01), 'WithBNNLoss'],
      [(m: tf.LayersModel) => new ELBOLoss(m, { datasetSize: 40 }), 'ELBOLoss'],
    ] as const) {
      const c2 = make(two);
      const c1 = make(one);
      setSeed(5);
      const before = tf.memory().numTensors;
      const t2 = tf.tidy(() => {
        const r = c2.compute([xa, xb], y, { step: 0, numBatches: 10 });
        return tf.stack([r.loss, r.nll, r.kl]);
      });
      expect(tf.memory().numTensors).toBe(before + 1);
      setSeed(5);
      const t1 = tf.tidy(() => {
        const r = c1.compute(xc, y, { step: 0, numBatches: 10 });
        return tf.stack([r.loss, r.nll, r.kl]);
      });
      expect(Array.from(t2.dataSync()), name).toEqual(
        Array.from(t1.dataSync()).map((v) => expect.closeTo(v, 6)),
      );
      tf.dispose([t1, t2]);
      // one SGD step each from the same weights and the same draws: the same weights after
      const o1 = tf.train.sgd(0.5);
      const o2 = tf.train.sgd(0.5);
      setSeed(6);
      const r2 = c2.trainStep(o2, [xa, xb], y);
      setSeed(6);
      const r1 = c1.trainStep(o1, xc, y);
      expect(r2.loss.dataSync()[0]).toBeCloseTo(r1.loss.dataSync()[0]!, 6);
      tf.dispose([r1.loss, r1.nll, r1.kl, r2.loss, r2.nll, r2.kl]);
      const w2 = two.getWeights().map((w) => Array.from(w.dataSync()));
      one
        .getWeights()
        .forEach((w, i) =>
          Array.from(w.dataSync()).forEach((v, j) => expect(w2[i]![j]).toBeCloseTo(v, 6)),
        );
      o1.dispose();
      o2.dispose();
    }
    tf.dispose([xa, xb, xc, y]);
    two.dispose();
    one.dispose();
  });

  it('trains through epochLoop on batches { x: [a, b], y }: the loss decreases', async () => {
    const { two, one } = twins();
    one.dispose();
    setSeed(7);
    const n = 32;
    const xa = tf.randomNormal([n, 2], 0, 1, 'float32', 1);
    const xb = tf.randomNormal([n, 1], 0, 1, 'float32', 2);
    const y = tf.tidy(() =>
      tf.cast(tf.greater(tf.add(tf.sum(xa, 1), tf.squeeze(xb, [1])), 0), 'int32'),
    );
    const cell = new ELBOLoss(two, { datasetSize: n });
    const opt = tf.train.adam(0.05);
    const losses: number[] = [];
    const { epochLoop } = await import('../../src/layers/index.js');
    await epochLoop({
      source: {
        batches: () =>
          [0, 16].map((i) => {
            const x = [tf.slice(xa, [i], [16]), tf.slice(xb, [i], [16])];
            const yb = tf.slice(y, [i], [16]);
            return { x, y: yb, dispose: () => tf.dispose([...x, yb]) };
          }),
      },
      epochs: 40,
      numBatches: 2,
      step: (b, ctx) => {
        const r = cell.trainStep(opt, b.x, b.y, ctx);
        const loss = r.loss.dataSync()[0]!;
        tf.dispose([r.loss, r.nll, r.kl]);
        return { loss, nll: loss, kl: 0, correct: 0, size: 16 };
      },
      onEpochEnd: (_, totals) => {
        losses.push(totals.loss / totals.n);
      },
    });
    expect(losses.at(-1)!).toBeLessThan(0.7 * losses[0]!);
    opt.dispose();
    tf.dispose([xa, xb, y]);
    two.dispose();
  });

  it('checks each input against its model input (errors name x or x[i]) before the forward pass, leaving no tensor behind', () => {
    const { two, one } = twins();
    const cell = new WithBNNLoss(two);
    const ok = [tf.zeros([4, 2]), tf.zeros([4, 1])];
    const y = tf.zeros([4], 'int32');
    const opt = tf.train.adam(0.01);
    const cases: [unknown, RegExp][] = [
      [
        tf.zeros([4, 3]),
        /x: expected an array of 2 input tensors .*\[\*, 2\], \[\*, 1\].*got one tensor \[4, 3\]/,
      ],
      [[ok[0]], /x: expected an array of 2 input tensors .*got 1/],
      [[tf.zeros([4, 3]), ok[1]], /x\[0\]: expected inputs \[B, 2\] \(model input 0/],
      [[ok[0], tf.zeros([4, 1, 1])], /x\[1\]: expected inputs \[B, 1\]/],
      [[ok[0], tf.zeros([5, 1])], /x\[1\]: expected the batch size of x\[0\] \(4\), got \[5, 1\]/],
      [[ok[0], tf.zeros([4, 1], 'bool')], /x\[1\]: expected float32 inputs, got dtype bool/],
      [[ok[0], 'b'], /x\[1\]: expected a live tf.Tensor/],
    ];
    for (const [x, msg] of cases) {
      const before = tf.memory().numTensors;
      expect(() => opt.minimize(() => cell.compute(x as tf.Tensor[], y).loss)).toThrow(msg);
      expect(() => cell.trainStep(opt, x as tf.Tensor[], y)).toThrow(msg);
      expect(tf.memory().numTensors).toBe(before);
    }
    // a one-input model given an array of two, and a wrong shape of its one input
    const cell1 = new WithBNNLoss(one);
    expect(() => cell1.trainStep(opt, ok, y)).toThrow(
      /x: expected one input tensor .*got an array of 2/,
    );
    expect(() => cell1.trainStep(opt, ok[0]!, y)).toThrow(/x: expected inputs \[B, 3\]/);
    // targets of another batch size are still named y
    expect(() => cell.trainStep(opt, ok, tf.zeros([3], 'int32'))).toThrow(/y: /);
    opt.dispose();
    tf.dispose([...ok, y]);
    two.dispose();
    one.dispose();
  });
});
