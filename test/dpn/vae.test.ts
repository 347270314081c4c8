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
    const v2 = new VAE(enc(16), dec(), 7, 3);
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
