import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, layers, setSeed } from '../../src/index.js';

/** XOR-like data: label = [x0 * x1 > 0], seeded. */
function xorData(n: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomUniform([n, 2], -2, 2, 'float32', 7) as tf.Tensor2D;
    const y = tf.oneHot(tf.cast(tf.greater(tf.prod(x, 1), 0), 'int32'), 2) as tf.Tensor2D;
    return { x, y };
  });
}

function bnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      layers.denseReparam({ inputShape: [2], outChannels: 16, activation: 'relu', priorSigma: 1 }),
      layers.denseReparam({ outChannels: 2, activation: 'softmax', priorSigma: 1 }),
    ],
  });
}

describe('compileBayesian', () => {
  it('model.fit minimises mean NLL + beta KL / N (checked against an independent computation)', async () => {
    setSeed(11);
    const n = 48;
    const { x, y } = xorData(n);
    const model = bnn();
    layers.compileBayesian(model, {
      datasetSize: n,
      klWeight: 0.5,
      optimizer: tf.train.sgd(0), // no update: the reported loss is the loss at these weights
      loss: 'categoricalCrossentropy',
    });
    layers.setMode(model, 'mean'); // deterministic data term
    const h = await model.fit(x, y, { epochs: 1, batchSize: n, verbose: 0, shuffle: false });
    const probs = (model.predict(x) as tf.Tensor).arraySync() as number[][];
    const labels = y.arraySync();
    let nll = 0;
    probs.forEach((p, i) => {
      const k = (labels[i] ?? [])[1] === 1 ? 1 : 0;
      nll -= Math.log(p[k] ?? NaN);
    });
    nll /= n;
    const klT = layers.modelKL(model);
    const kl = klT.dataSync()[0] ?? NaN;
    klT.dispose();
    expect(kl).toBeGreaterThan(1);
    const want = nll + (0.5 * kl) / n;
    expect(h.history['loss']?.[0] as number).toBeCloseTo(want, 3);
    for (const l of layers.bayesianLayers(model)) expect(l.klScale).toBeCloseTo(0.5 / n, 12);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('a Bayesian classifier trained by model.fit learns (the unscaled default does not)', async () => {
    const n = 128;
    const { x, y } = xorData(n);
    const accuracy = async (compile: (m: tf.Sequential) => void): Promise<number> => {
      setSeed(5);
      const m = bnn();
      compile(m);
      await m.fit(x, y, { epochs: 15, batchSize: 32, verbose: 0, shuffle: false });
      layers.setMode(m, 'mean');
      const acc = tf.tidy(() =>
        tf.mean(
          tf.cast(tf.equal(tf.argMax(m.predict(x) as tf.Tensor, 1), tf.argMax(y, 1)), 'float32'),
        ),
      );
      const a = acc.dataSync()[0] ?? NaN;
      acc.dispose();
      m.dispose();
      return a;
    };
    const args = { optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' };
    const scaled = await accuracy((m) => layers.compileBayesian(m, { datasetSize: n, ...args }));
    const unscaled = await accuracy((m) => m.compile({ ...args, optimizer: tf.train.adam(0.05) }));
    expect(scaled).toBeGreaterThan(0.9);
    expect(unscaled).toBeLessThan(scaled - 0.15);
    tf.dispose([x, y]);
  });

  it('rejects bad arguments before compiling', () => {
    const m = bnn();
    const base = { optimizer: 'adam', loss: 'categoricalCrossentropy' };
    expect(() => layers.compileBayesian(m, { ...base, datasetSize: 0 })).toThrow(/datasetSize/);
    expect(() => layers.compileBayesian(m, { ...base, datasetSize: 1.5 })).toThrow(ArgumentError);
    expect(() => layers.compileBayesian(m, { ...base, datasetSize: 10, klWeight: -1 })).toThrow(
      /klWeight/,
    );
    const plain = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 2 })] });
    expect(() => layers.compileBayesian(plain, { ...base, datasetSize: 10 })).toThrow(
      /model: has no Bayesian layer/,
    );
    expect(m.optimizer).toBeUndefined();
    m.dispose();
    plain.dispose();
  });
});
