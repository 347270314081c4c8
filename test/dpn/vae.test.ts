import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConditionalVAE } from '../../src/dpn/conditional_vae.js';
import { VAE } from '../../src/dpn/vae.js';
import { ELBO } from '../../src/infer/elbo.js';
import { SVI } from '../../src/infer/svi.js';
import { WithLossCell } from '../../src/infer/with_loss.js';
import { setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

const enc = (inputs: number): tf.Sequential =>
  tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units: 12, activation: 'relu' }),
      tf.layers.dense({ units: 8, activation: 'relu' }),
    ],
  });
const dec = (): tf.Sequential =>
  tf.sequential({
    layers: [tf.layers.dense({ inputShape: [8], units: 16, activation: 'sigmoid' })],
  });

describe('dpn.VAE', () => {
  it('has the MindSpore structure: shapes, heads, trainable variables', () => {
    const vae = new VAE(enc(16), dec(), 8, 3);
    const x = tf.randomUniform([5, 16]);
    const o = vae.apply(x);
    expect(o.reconX.shape).toEqual([5, 16]);
    expect(o.mu.shape).toEqual([5, 3]);
    expect(o.std.shape).toEqual([5, 3]);
    expect(Math.min(...o.std.dataSync())).toBeGreaterThan(0);
    expect(o.x).toBe(x);
    // encoder 2x(kernel, bias), three heads, decoder (kernel, bias)
    expect(vae.trainableVariables().length).toBe(4 + 6 + 2);
    tf.dispose([o.reconX, o.mu, o.std]);
    expectNoLeak(() => vae.generateSample(4, [-1, 4, 4, 1]));
    expect(tf.tidy(() => vae.generateSample(4, [-1, 4, 4, 1]).shape)).toEqual([4, 4, 4, 1]);
    expectNoLeak(() => vae.reconstructSample(x));
    const before = tf.memory().numTensors;
    const o2 = vae.apply(x);
    tf.dispose([o2.reconX, o2.mu, o2.std]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    vae.dispose();
  });

  it('z is reparameterized: mu = dense1(h), std = softplus(dense2(h)), sampled around mu', () => {
    setSeed(4);
    const vae = new VAE(enc(16), dec(), 8, 3);
    const x = tf.randomUniform([1, 16]);
    const outs = Array.from({ length: 10 }, () => vae.apply(x));
    const mu0 = outs[0]?.mu.dataSync() as Float32Array;
    outs.slice(1).forEach((o) => expect(o.mu).toBeAllclose(mu0));
    // the mean is deterministic, the reconstruction is not (z is sampled)
    const r0 = outs[0]?.reconX as tf.Tensor;
    const r1 = outs[1]?.reconX as tf.Tensor;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(r0, r1))).dataSync()[0] as number)).toBeGreaterThan(
      0,
    );
    tf.dispose(outs.flatMap((o) => [o.reconX, o.mu, o.std]));
    x.dispose();
    vae.dispose();
  });

  it('trains with infer.SVI: loss falls, every variable moves, no leak per step', () => {
    setSeed(1);
    const vae = new VAE(enc(16), dec(), 8, 3);
    const data = tf.tidy(() => tf.round(tf.randomUniform([64, 16])));
    const vi = new SVI({
      netWithLoss: new WithLossCell(vae, new ELBO({ outputPrior: 'Bernoulli' })),
      optimizer: tf.train.adam(0.01),
    });
    const before = vae.trainableVariables().map((v) => v.clone());
    const batchesOf = (): { x: tf.Tensor }[] =>
      [0, 1, 2, 3].map((i) => ({ x: data.slice([16 * i, 0], [16, 16]) }));
    const b = batchesOf();
    vi.run(b, 1);
    const first = vi.getTrainLoss();
    const n0 = tf.memory().numTensors;
    const net = vi.run(b, 4);
    expect(tf.memory().numTensors).toBe(n0);
    expect(net).toBe(vae);
    expect(vi.getTrainLoss()).toBeLessThan(first);
    expect(vi.getHistory().length).toBe(5);
    vae.trainableVariables().forEach((v, i) => {
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(v, before[i] as tf.Tensor))).dataSync()[0]);
      expect(d).toBeGreaterThan(0);
    });
    tf.dispose([...before, ...b.map((t) => t.x), data]);
    vae.dispose();
  });

  it('disposes cleanly and validates its arguments', () => {
    const before = tf.memory().numTensors;
    const vae = new VAE(enc(16), dec(), 8, 3);
    vae.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new VAE({} as tf.Sequential, dec(), 8, 3)).toThrow(/encoder/);
    expect(() => new VAE(enc(16), dec(), 0, 3)).toThrow(/hiddenSize/);
    // a tf.LayersModel declares its shapes: refused at construction
    expect(() => new VAE(enc(16), dec(), 7, 3)).toThrow(/encoder.*\[n, 7\] \(hiddenSize\)/);
    // a layer stack does not: refused on its first batch
    const v2 = new VAE([tf.layers.dense({ units: 8 })], [tf.layers.dense({ units: 16 })], 7, 3);
    const x = tf.zeros([2, 16]);
    expect(() => v2.apply(x)).toThrow(/hiddenSize/);
    x.dispose();
    v2.dispose();
    expect(
      () => new SVI({ netWithLoss: undefined as never, optimizer: tf.train.adam(0.1) }),
    ).toThrow(/netWithLoss/);
  });
});

describe('dpn.ConditionalVAE', () => {
  it('conditions encoder and decoder on the one-hot label', () => {
    setSeed(2);
    const cvae = new ConditionalVAE(enc(16 + 4), dec(), 8, 3, 4);
    const x = tf.randomUniform([6, 16]);
    const y = tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32');
    const o = cvae.apply(x, y);
    expect(o.reconX.shape).toEqual([6, 16]);
    tf.dispose([o.reconX, o.mu, o.std]);
    // the same z decoded with different labels gives different images
    setSeed(9);
    const a = cvae.generateSample(0, 3);
    setSeed(9);
    const b = cvae.generateSample(2, 3);
    expect(a.shape).toEqual([3, 16]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
    expect(diff).toBeGreaterThan(1e-4);
    expectNoLeak(() => cvae.generateSample([0, 1, 2], 3, [-1, 4, 4, 1]));
    expectNoLeak(() => cvae.reconstructSample(x, y));
    expect(() => cvae.apply(x)).toThrow(/labels/);
    const bad = tf.tensor1d([0, 1], 'int32');
    expect(() => cvae.apply(x, bad)).toThrow(/y/);
    // heads: dense3 takes latent + numClasses
    expect(cvae.trainableVariables().length).toBe(12);
    tf.dispose([a, b, x, y, bad]);
    cvae.dispose();
  });
});

describe('dpn VAEs off the seeds path', () => {
  it('sampling and reconstruction run the networks in inference mode (dropout off, BatchNorm not updated)', () => {
    setSeed(3);
    const decoder = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [8], units: 16 }),
        tf.layers.batchNormalization(),
        tf.layers.activation({ activation: 'sigmoid' }),
        tf.layers.dropout({ rate: 0.5 }),
      ],
    });
    const vae = new VAE(enc(16), decoder, 8, 3);
    const bn = decoder.layers[1] as tf.layers.Layer;
    const moving = (): number[] => Array.from(bn.getWeights()[2]!.dataSync());
    const m0 = moving();
    const g = vae.generateSample(50);
    // dropout at rate 0.5 in training mode zeroed half the outputs and doubled the rest (max 1.56)
    expect(Math.min(...g.dataSync())).toBeGreaterThan(0);
    expect(Math.max(...g.dataSync())).toBeLessThan(1);
    const x = tf.randomUniform([6, 16]);
    const r = vae.reconstructSample(x);
    expect(r.shape).toEqual([6, 16]);
    expect(Math.max(...r.dataSync())).toBeLessThan(1);
    expect(moving()).toEqual(m0);
    tf.dispose([g, r, x]);
    vae.dispose();
  });

  it('checks inputs, labels and options before any work, naming the argument', () => {
    const vae = new VAE(enc(16), dec(), 8, 3);
    const before = tf.memory().numTensors;
    const bad = tf.tensor2d([[NaN, ...new Array<number>(15).fill(0)]]);
    expect(() => vae.apply(bad)).toThrow(/x: expected finite inputs, got NaN/);
    const empty = tf.zeros([0, 16]);
    expect(() => vae.apply(empty)).toThrow(/x: expected at least one example/);
    tf.dispose([bad, empty]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new VAE(enc(16), dec(), 8, 3, { stdTransform: 'relu' as 'exp' })).toThrow(
      /stdTransform: expected 'softplus' or 'exp', got 'relu'/,
    );
    expect(() => new VAE(enc(16), dec(), 8, 3, { std_transform: 'exp' } as object)).toThrow(
      /std_transform: .*did you mean stdTransform/,
    );
    expect(() => new ELBO({ reductions: 'mean' } as object)).toThrow(
      /reductions: not an option of ELBO/,
    );
    expect(
      () =>
        new SVI({
          netWithLoss: new WithLossCell(vae, new ELBO()),
          optimizer: tf.train.adam(1e-3),
          epochs: 3,
        } as ConstructorParameters<typeof SVI>[0]),
    ).toThrow(/epochs: not an option of SVI/);
    // Bernoulli likelihood: data outside [0, 1]
    const big = tf.fill([2, 16], 2);
    expect(() => new WithLossCell(vae, new ELBO({ outputPrior: 'Bernoulli' })).call(big)).toThrow(
      /x: expected values in \[0, 1\] for outputPrior 'Bernoulli', got 2/,
    );
    big.dispose();
    const cvae = new ConditionalVAE(enc(16 + 3), dec(), 8, 2, 3);
    const x = tf.randomUniform([4, 16]);
    for (const labels of [
      [0, 1, 5, -1],
      [0.5, 1.7, 2.2, 0],
    ]) {
      const y = tf.tensor1d(labels);
      expect(() => cvae.apply(x, y)).toThrow(
        /y: expected integer labels in \[0, 3\) \(numClasses\)/,
      );
      y.dispose();
    }
    expect(() => cvae.generateSample(7, 4)).toThrow(/label: expected integer labels in \[0, 3\)/);
    expect(() => cvae.generateSample([0, 1], 3)).toThrow(
      /label: expected integer labels of shape \[3\]/,
    );
    x.dispose();
    vae.dispose();
    cvae.dispose();
  });

  it("SVI's epoch loss is per example for 'mean' as for 'sum'; a failing batch is still freed", () => {
    for (const reduction of ['sum', 'mean'] as const) {
      setSeed(8);
      const vae = new VAE(enc(16), dec(), 8, 3);
      const svi = new SVI({
        netWithLoss: new WithLossCell(vae, new ELBO({ reduction })),
        optimizer: tf.train.sgd(0),
      });
      const x = tf.randomUniform([10, 16], 0, 1, 'float32', 5);
      // with lr 0 the step's loss is the batch loss: sum over 10 examples, or their mean
      setSeed(9);
      const batchLoss = svi.step(x);
      setSeed(9);
      svi.run([{ x }], 1);
      expect(svi.getTrainLoss()).toBeCloseTo(reduction === 'sum' ? batchLoss / 10 : batchLoss, 4);
      x.dispose();
      vae.dispose();
    }
    const vae = new VAE(enc(16), dec(), 8, 3);
    const svi = new SVI({
      netWithLoss: new WithLossCell(vae, new ELBO()),
      optimizer: tf.train.sgd(0),
    });
    const before = tf.memory().numTensors;
    expect(() => svi.run(() => [{ x: tf.fill([2, 16], NaN) }], 1)).toThrow(/x: expected finite/);
    expect(tf.memory().numTensors).toBe(before);
    vae.dispose();
  });
});
