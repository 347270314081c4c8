import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox, ArgumentError } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

function net(seed: number, dropout: boolean): tf.Sequential {
  const layers: tf.layers.Layer[] = [
    tf.layers.dense({
      inputShape: [3],
      units: 12,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    }),
  ];
  if (dropout) layers.push(tf.layers.dropout({ rate: 0.5 }));
  layers.push(
    tf.layers.dense({
      units: 4,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return tf.sequential({ layers });
}

describe('prediction interface', () => {
  const x = tf.tensor2d([
    [0.1, 0.2, 0.3],
    [1, -1, 0.5],
  ]);

  it('MC dropout draws different masks; samples are probability vectors; no leaks', () => {
    const m = net(1, true);
    const p = toolbox.mcDropoutPredictor(m);
    p.predictSamples(x, 1).dispose(); // warm-up
    const before = tf.memory().numTensors;
    const s = p.predictSamples(x, 8);
    expect(s.shape).toEqual([8, 2, 4]);
    expect(tf.memory().numTensors).toBe(before + 1);
    const sums = tf.tidy(() => tf.sum(s, -1));
    expect(sums).toBeAllclose(1, { rtol: 1e-5 });
    const mi = toolbox.mutualInformation(s);
    expect(Math.max(...Array.from(mi.dataSync()))).toBeGreaterThan(1e-4);
    tf.dispose([s, sums, mi]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => toolbox.mcDropoutPredictor(net(2, false))).toThrow(/Dropout/);
    expect(() => p.predictSamples(x, 0)).toThrow(ArgumentError);
    m.dispose();
  });

  it('ensemble samples are the members softmax outputs, with zero MI for identical members', () => {
    const a = net(3, false);
    const b = net(5, false);
    const ens = toolbox.ensemblePredictor([a, b]);
    const s = ens.predictSamples(x, 2);
    const ref = tf.tidy(() =>
      tf.stack([tf.softmax(a.predict(x) as tf.Tensor), tf.softmax(b.predict(x) as tf.Tensor)]),
    );
    expect(s).toBeAllclose(ref, { rtol: 1e-5 });
    const same = toolbox.ensemblePredictor([a, a, a]).predictSamples(x, 3);
    const mi = toolbox.mutualInformation(same);
    expect(mi).toBeAllclose([0, 0], { atol: 1e-6 });
    expect(() => ens.predictSamples(x, 3)).toThrow(/members/);
    tf.dispose([s, ref, same, mi]);
    a.dispose();
    b.dispose();
  });

  it('stochasticPredictor and batching agree with one big call for a deterministic forward', () => {
    const m = net(7, false);
    const p = toolbox.stochasticPredictor((t) => m.predict(t) as tf.Tensor);
    const big = tf.randomNormal([7, 3], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const whole = p.predictSamples(big, 2);
    const batched = toolbox.predictSamplesBatched(p, big, 2, 3);
    expect(batched.shape).toEqual([2, 7, 4]);
    expect(batched).toBeAllclose(whole, { rtol: 1e-5 });
    tf.dispose([whole, batched]);
    expect(tf.memory().numTensors).toBe(before);
    big.dispose();
    m.dispose();
  });

  it('withMcDropout copies a model, inserting dropout after the first dense layer', async () => {
    const m = net(9, false);
    const copy = await toolbox.withMcDropout(m, 0.3);
    expect(copy.layers.map((l) => l.getClassName())).toEqual(['Dense', 'Dropout', 'Dense']);
    expect(toolbox.hasDropout(m)).toBe(false);
    const a = m.predict(x) as tf.Tensor;
    const b = copy.predict(x) as tf.Tensor;
    expect(b).toBeAllclose(a, { rtol: 1e-6 });
    const c = await toolbox.cloneModel(m);
    const d = c.predict(x) as tf.Tensor;
    expect(d).toBeAllclose(a, { rtol: 1e-6 });
    tf.dispose([a, b, d]);
    [m, copy, c].forEach((k) => k.dispose());
  });
});

describe("predictors with output 'regression' (a regressor's sampled outputs)", () => {
  it('return the outputs as they are, [S, N, D], with no softmax or sigmoid', () => {
    const x = tf.tensor2d([
      [0.2, -1, 0.5],
      [1, 0.3, -0.4],
    ]);
    const a = net(3, false);
    const b = net(7, true);
    const one = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 1, useBias: false })],
    });
    const before = tf.memory().numTensors;
    const ens = toolbox.ensemblePredictor([a, b], 'regression').predictSamples(x, 2);
    const fa = a.predict(x) as tf.Tensor;
    const fb = b.predict(x) as tf.Tensor;
    expect(ens.shape).toEqual([2, 2, 4]);
    expect(Array.from(ens.dataSync())).toEqual([...fa.dataSync(), ...fb.dataSync()]);
    // a one-output regressor is not read as a binary classifier
    const single = toolbox.ensemblePredictor([one], 'regression').predictSamples(x, 1);
    const f1 = one.predict(x) as tf.Tensor;
    expect(single.shape).toEqual([1, 2, 1]);
    expect(Array.from(single.dataSync())).toEqual(Array.from(f1.dataSync()));
    // MC dropout: every sample is a dropout pass of the outputs (mean over many = the outputs)
    const mc = toolbox.mcDropoutPredictor(b, 'regression').predictSamples(x, 400);
    expect(mc.shape).toEqual([400, 2, 4]);
    const mean = tf.tidy(() => tf.mean(mc, 0));
    const sums = tf.tidy(() => tf.sum(mc, -1));
    expect(Array.from(sums.dataSync()).some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
    // inverted dropout keeps the mean of the first layer's activations; the last layer is linear
    expect(Array.from(mean.dataSync())).toBeAllclose(Array.from(fb.dataSync()), { atol: 0.25 });
    tf.dispose([ens, fa, fb, single, f1, mc, mean, sums]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => toolbox.ensemblePredictor([a], 'values' as 'regression')).toThrow(
      /output: expected 'logits', 'probs', 'auto' or 'regression'/,
    );
    [a, b, one].forEach((m) => m.dispose());
    x.dispose();
  });
});

describe('predictors and multi-input models', () => {
  it('take a model with two inputs (x an array of tensors); refuse one with two outputs at construction, naming the argument', () => {
    const a = tf.input({ shape: [2] });
    const b = tf.input({ shape: [1] });
    const c = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    const h = tf.layers.dropout({ rate: 0.5 }).apply(c) as tf.SymbolicTensor;
    const m = tf.model({
      inputs: [a, b],
      outputs: tf.layers.dense({ units: 3 }).apply(h) as tf.SymbolicTensor,
    });
    const two = tf.model({ inputs: [a, b], outputs: [h, c] });
    const before = tf.memory().numTensors;
    expect(() => toolbox.ensemblePredictor([two])).toThrow(
      /members: expected models with one output .* 2 outputs/,
    );
    expect(() => toolbox.mcDropoutPredictor(two)).toThrow(/model: expected models with one output/);
    expect(() => toolbox.stochasticPredictor(two)).toThrow(
      /forward: expected models with one output/,
    );
    expect(tf.memory().numTensors).toBe(before);
    // MC dropout over the two inputs: masks differ between samples, each row a probability vector
    const x = [tf.ones([4, 2]), tf.ones([4, 1])];
    const p = expectNoLeak(() => toolbox.mcDropoutPredictor(m).predictSamples(x, 8));
    expect(p.length).toBe(8 * 4 * 3);
    for (let r = 0; r < p.length; r += 3) expect(p[r]! + p[r + 1]! + p[r + 2]!).toBeCloseTo(1, 5);
    expect(new Set(p.map((v) => v.toFixed(5))).size).toBeGreaterThan(3);
    expect(() => toolbox.mcDropoutPredictor(m).predictSamples(x[0]!, 2)).toThrow(
      /^x: expected an array of 2 input tensors/,
    );
    tf.dispose(x);
    m.dispose();
  });
});
