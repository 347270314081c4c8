/**
 * Audit of issue #13 (estimators as data) at prediction time: for every registered estimator a
 * one-layer Bayesian regression sampled through `toolbox.stochasticPredictor` has the moments the
 * registry documents for one example, `E[y] = x mu + mu_b` and `Var[y] = x^2 sigma^2 + sigma_b^2`
 * (Monte Carlo within its standard error, float64 reference), batched prediction of a two-input
 * Bayesian classifier equals the unbatched one under the same seed, and no tensor is left.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, setSeed, toolbox } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';

describe('prediction of every estimator against its documented moments', () => {
  for (const e of layers.ESTIMATOR_NAMES) {
    it(`${e}: MC mean and variance of one output within 4.5 standard errors`, () => {
      setSeed(12);
      const model = tf.sequential({
        layers: [
          new layers.ESTIMATOR_CLASSES[e].dense({
            inputShape: [3],
            units: 1,
            posteriorRhoInitial: [-1, 0.3],
            posteriorMuInitial: [0, 1],
          }),
        ],
      });
      const xs = [
        [0.5, -1.0, 2.0],
        [1.5, 0.2, -0.7],
      ];
      const x = tf.tensor2d(xs);
      const S = 4000;
      const before = tf.memory().numTensors;
      const samples = toolbox.stochasticPredictor(model, 'regression').predictSamples(x, S);
      expect(samples.shape).toEqual([S, 2, 1]);
      const v = samples.dataSync();
      samples.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const w = model.getWeights().map((t) => Array.from(t.dataSync()));
      const names = model.weights.map((t) => t.originalName ?? t.name);
      const get = (re: RegExp): number[] => w[names.findIndex((nm) => re.test(nm))] as number[];
      const muK = get(/kernel.*mu|mu.*kernel/i);
      const rhoK = get(/kernel.*rho|rho.*kernel/i);
      const muB = get(/bias.*mu|mu.*bias/i);
      const rhoB = get(/bias.*rho|rho.*bias/i);
      expect(muK).toHaveLength(3);
      const sp = (r: number): number => Math.log1p(Math.exp(r));
      xs.forEach((row, i) => {
        const mean = row.reduce((s, xv, j) => s + xv * muK[j]!, muB[0]!);
        const variance = row.reduce(
          (s, xv, j) => s + xv * xv * sp(rhoK[j]!) ** 2,
          sp(rhoB[0]!) ** 2,
        );
        let m1 = 0;
        let m2 = 0;
        for (let s = 0; s < S; s++) m1 += v[s * 2 + i]!;
        m1 /= S;
        for (let s = 0; s < S; s++) m2 += (v[s * 2 + i]! - m1) ** 2;
        m2 /= S - 1;
        // SE of the mean sqrt(var / S); of the variance var * sqrt(2 / (S - 1)) (Gaussian output)
        expect(Math.abs(m1 - mean)).toBeLessThan(4.5 * Math.sqrt(variance / S));
        expect(Math.abs(m2 - variance)).toBeLessThan(4.5 * variance * Math.sqrt(2 / (S - 1)));
      });
      tf.dispose(x);
      model.dispose();
    });
  }
});

describe('batched prediction of a two-input Bayesian classifier', () => {
  it('predictSamplesBatched: shape [S, N, K], probabilities, no tensor left; bad arguments named', async () => {
    setSeed(3);
    const ia = tf.input({ shape: [3] });
    const ib = tf.input({ shape: [2] });
    const h = tf.layers
      .concatenate()
      .apply([
        new layers.ESTIMATOR_CLASSES.flipout.dense({ units: 4, activation: 'relu' }).apply(
          ia,
        ) as tf.SymbolicTensor,
        new layers.ESTIMATOR_CLASSES.local.dense({ units: 4, activation: 'relu' }).apply(
          ib,
        ) as tf.SymbolicTensor,
      ]) as tf.SymbolicTensor;
    const out = new layers.ESTIMATOR_CLASSES.reparam.dense({ units: 3 }).apply(
      h,
    ) as tf.SymbolicTensor;
    const model = tf.model({ inputs: [ia, ib], outputs: out });
    const a = tf.randomNormal([11, 3], 0, 1, 'float32', 1);
    const b = tf.randomNormal([11, 2], 0, 1, 'float32', 2);
    const before = tf.memory().numTensors;
    const pred = toolbox.stochasticPredictor(model, 'logits');
    const p = toolbox.predictSamplesBatched(pred, [a, b], 5, 4);
    expect(p.shape).toEqual([5, 11, 3]);
    const sums = tf.tidy(() => Array.from(tf.sum(p, -1).dataSync()));
    sums.forEach((s) => expect(s).toBeCloseTo(1, 5));
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // the mean-weights network gives identical samples batched or not
    const modes = layers.setMode(model, 'mean');
    const one = toolbox.predictSamplesBatched(pred, [a, b], 2, 100);
    const many = toolbox.predictSamplesBatched(pred, [a, b], 2, 3);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(one, many))).dataSync()[0] as number);
    expect(d).toBeLessThan(1e-6);
    tf.dispose([one, many]);
    layers.restoreModes(model, modes);
    await expectBadInput({
      call: 'numSamples 0',
      run: () => pred.predictSamples([a, b], 0),
      arg: 'numSamples',
    });
    await expectBadInput({
      call: 'one tensor for two inputs',
      run: () => pred.predictSamples(a, 2),
      arg: /^x/,
    });
    await expectBadInput({
      call: 'ragged inputs',
      run: () => tf.tidy(() => pred.predictSamples([a, tf.zeros([10, 2])], 2)),
      arg: /^x/,
    });
    await expectBadInput({
      call: 'batchSize 0',
      run: () => toolbox.predictSamplesBatched(pred, [a, b], 2, 0),
      arg: 'batchSize',
    });
    tf.dispose([a, b]);
    model.dispose();
  });
});
