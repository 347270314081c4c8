import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, setSeed, toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

const { Swag, swagPredictor, trainSwag, bnUpdate } = toolbox;

/** Dense(4) -> BatchNorm -> ReLU -> Dense(3), seeded; momentum 0.9 so that stale stats show. */
function bnNet(seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        units: 4,
        inputShape: [3],
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.batchNormalization({ momentum: 0.9 }),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({
        units: 3,
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
}

/** A SWAG posterior from 5 perturbed snapshots of the model's weights. */
function swagOf(m: tf.LayersModel, rng: () => number): InstanceType<typeof Swag> {
  const swag = new Swag(m, { rank: 3 });
  const base = m.getWeights().map((w) => w.clone());
  for (let t = 0; t < 5; t++) {
    const w = m.trainableWeights.map((v) =>
      tf.tidy(() =>
        tf.add(
          v.read(),
          tf.randomUniform(v.read().shape, -0.3, 0.3, 'float32', Math.floor(rng() * 1e6)),
        ),
      ),
    );
    swag.assign(w);
    swag.collect();
    tf.dispose(w);
  }
  m.setWeights(base);
  tf.dispose(base);
  return swag;
}

/** Host statistics of the BN input h = x W + b over the rows [from, to): mean and biased variance. */
function hostStats(xs: number[][], w: Float32Array, b: Float32Array, from: number, to: number) {
  const u = b.length;
  const h = xs
    .slice(from, to)
    .map((row) =>
      Array.from({ length: u }, (_, j) => row.reduce((s, v, i) => s + v * w[i * u + j]!, b[j]!)),
    );
  const mean = Array.from({ length: u }, (_, j) => h.reduce((s, r) => s + r[j]!, 0) / h.length);
  const variance = Array.from(
    { length: u },
    (_, j) => h.reduce((s, r) => s + (r[j]! - mean[j]!) ** 2, 0) / h.length,
  );
  return { mean, variance };
}

function movingStats(m: tf.LayersModel): { mean: number[]; variance: number[] } {
  const bn = m.layers[1]!;
  const [mean, variance] = bn.weights
    .filter((w) => !w.trainable)
    .map((w) => Array.from(w.read().dataSync()));
  return { mean: mean!, variance: variance! };
}

function data(n: number, seed: number) {
  const rng = makeRng(seed);
  const xs = Array.from({ length: n }, () => Array.from({ length: 3 }, () => 2 * rng() - 1 + 0.5));
  return { xs, x: tf.tensor2d(xs) };
}

describe("SWAG's bn_update (Maddox et al.)", () => {
  it('the moving mean / variance after bn_update equal the batch statistics of the sampled weights, computed directly', () => {
    setSeed(1);
    const m = bnNet(3);
    const { xs, x } = data(20, 4);
    const swag = swagOf(m, makeRng(5));
    const draw = swag.sample({ seed: 9 });
    swag.assign(draw);
    const w = draw[0]!.dataSync() as Float32Array;
    const b = draw[1]!.dataSync() as Float32Array;
    // one batch: the statistics of the whole set
    const before = tf.memory().numTensors;
    bnUpdate(m, x, { batchSize: 64 });
    expect(tf.memory().numTensors).toBe(before);
    const want = hostStats(xs, w, b, 0, 20);
    const got = movingStats(m);
    got.mean.forEach((v, j) => expect(v).toBeCloseTo(want.mean[j]!, 5));
    got.variance.forEach((v, j) => expect(v).toBeCloseTo(want.variance[j]!, 5));
    // batches of 7, 7, 6: the batch-size weighted average of each batch's statistics
    bnUpdate(m, x, { batchSize: 7 });
    const parts = [
      [0, 7],
      [7, 14],
      [14, 20],
    ].map(([a, c]) => ({ n: c! - a!, ...hostStats(xs, w, b, a!, c!) }));
    const got2 = movingStats(m);
    got2.mean.forEach((v, j) =>
      expect(v).toBeCloseTo(parts.reduce((s, p) => s + p.n * p.mean[j]!, 0) / 20, 5),
    );
    got2.variance.forEach((v, j) =>
      expect(v).toBeCloseTo(parts.reduce((s, p) => s + p.n * p.variance[j]!, 0) / 20, 5),
    );
    tf.dispose([...draw, x]);
    swag.dispose();
  });

  it('swagPredictor({bnUpdate}) predicts each sample with its own BN statistics and restores the model', () => {
    setSeed(2);
    const m = bnNet(7);
    const { x } = data(24, 8);
    const xt = tf.tensor2d([
      [0.1, 0.4, -0.3],
      [1.2, -0.5, 0.7],
    ]);
    const swag = swagOf(m, makeRng(6));
    const statsBefore = movingStats(m);
    const weightsBefore = m.getWeights().map((t) => Array.from(t.dataSync()));
    const got = expectNoLeak(() =>
      swagPredictor(swag, { seed: 11, bnUpdate: { x, batchSize: 10 } }).predictSamples(xt, 2),
    );
    // the reference: the same two draws, bn_update, inference-mode softmax
    const want: number[] = [];
    for (let s = 0; s < 2; s++) {
      const draw = swag.sample({ seed: 11 + s });
      const saved = m.getWeights().map((t) => t.clone());
      swag.assign(draw);
      bnUpdate(m, x, { batchSize: 10 });
      const p = tf.tidy(() => tf.softmax(m.apply(xt, { training: false }) as tf.Tensor));
      want.push(...p.dataSync());
      m.setWeights(saved);
      tf.dispose([...draw, ...saved, p]);
    }
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    // without bn_update the stale statistics give other predictions
    const stale = expectNoLeak(() => swagPredictor(swag, { seed: 11 }).predictSamples(xt, 2));
    expect(Math.max(...stale.map((v, i) => Math.abs(v - want[i]!)))).toBeGreaterThan(1e-3);
    // the model's own statistics and weights are back
    expect(movingStats(m)).toEqual(statsBefore);
    expect(m.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(weightsBefore);
    tf.dispose([x, xt]);
    swag.dispose();
  });

  it('trainSwag({bnUpdate: true}) keeps the training inputs, which the predictor then uses; bad input is refused naming it', async () => {
    setSeed(3);
    const m = bnNet(11);
    const { x } = data(32, 12);
    const y = Array.from({ length: 32 }, (_, i) => i % 3);
    const xt = tf.tensor2d([[0.3, 0.2, 0.1]]);
    const start = tf.memory().numTensors;
    const swag = await trainSwag(m, x, y, { epochs: 1, batchSize: 8, bnUpdate: { batchSize: 16 } });
    expect(swag.bnUpdateData?.batchSize).toBe(16);
    const a = expectNoLeak(() => swagPredictor(swag, { seed: 1 }).predictSamples(xt, 2));
    const b = expectNoLeak(() =>
      swagPredictor(swag, { seed: 1, bnUpdate: { x, batchSize: 16 } }).predictSamples(xt, 2),
    );
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 6));
    const off = expectNoLeak(() =>
      swagPredictor(swag, { seed: 1, bnUpdate: false }).predictSamples(xt, 2),
    );
    expect(Math.max(...off.map((v, i) => Math.abs(v - a[i]!)))).toBeGreaterThan(1e-4);
    swag.dispose(); // frees the moments and the kept copy of x
    expect(tf.memory().numTensors).toBe(start);
    // refusals, before any work
    const plain = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [3] })] });
    await expect(trainSwag(plain, x, y, { bnUpdate: true })).rejects.toThrow(
      /bnUpdate: the model has no BatchNormalization layer/,
    );
    const swag2 = new Swag(m);
    swag2.collect();
    expect(() => swagPredictor(swag2, { bnUpdate: { x: tf.zeros([4, 5]) } })).toThrow(
      /x: expected inputs \[N, 3\]/,
    );
    expect(() => swagPredictor(swag2, { bnUpdate: { x, batchSize: 0 } })).toThrow(
      /batchSize: expected a positive integer/,
    );
    expect(() => bnUpdate(m, tf.tensor2d([[NaN, 0, 0]]))).toThrow(ArgumentError);
    swag2.dispose();
    tf.dispose([x, xt]);
  });

  it('finds BatchNormalization inside a nested model; refuses a nested BN model applied twice, before any work', () => {
    const inner = tf.sequential({
      layers: [tf.layers.batchNormalization({ inputShape: [3], momentum: 0.8 })],
    });
    const inp = tf.input({ shape: [3] });
    const once = tf.model({
      inputs: inp,
      outputs: tf.layers
        .dense({ units: 2 })
        .apply(inner.apply(inp) as tf.SymbolicTensor) as tf.SymbolicTensor,
    });
    const { xs, x } = data(10, 21);
    bnUpdate(once, x, { batchSize: 4 });
    const bn = inner.layers[0]!;
    const [mean, variance] = bn.weights
      .filter((w) => !w.trainable)
      .map((w) => Array.from(w.read().dataSync()));
    // the BN input is x itself: batch-size weighted batch statistics of x over batches 4, 4, 2
    const eye = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const zero = new Float32Array(3);
    const parts = [
      [0, 4],
      [4, 8],
      [8, 10],
    ].map(([a, c]) => ({ n: c! - a!, ...hostStats(xs, eye, zero, a!, c!) }));
    mean!.forEach((v, j) =>
      expect(v).toBeCloseTo(parts.reduce((s, p) => s + p.n * p.mean[j]!, 0) / 10, 5),
    );
    variance!.forEach((v, j) =>
      expect(v).toBeCloseTo(parts.reduce((s, p) => s + p.n * p.variance[j]!, 0) / 10, 5),
    );
    const inp2 = tf.input({ shape: [3] });
    const twice = tf.model({
      inputs: inp2,
      outputs: inner.apply(inner.apply(inp2) as tf.SymbolicTensor) as tf.SymbolicTensor,
    });
    const before = movingStats2(bn);
    expect(() => bnUpdate(twice, x)).toThrow(
      /model: the nested model '.*' holds BatchNormalization layers and is applied more than once/,
    );
    expect(movingStats2(bn)).toEqual(before);
    x.dispose();
  });
});

function movingStats2(bn: tf.layers.Layer): number[][] {
  return bn.weights.filter((w) => !w.trainable).map((w) => Array.from(w.read().dataSync()));
}
