/**
 * `withPosteriorScale`: inside the call every posterior std is `tau * softplus(rho)` (checked on
 * the variables and, by Monte Carlo, on the output variance of a reparameterised Dense layer
 * against its closed form), the trained rho come back bit for bit (also when the callback
 * throws), no tensor leaks, and bad input is rejected.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseLocalReparam, DenseReparam, setMode } from '../../src/layers/index.js';
import { toolbox } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

const { withPosteriorScale } = toolbox;

beforeAll(() => setSeed(11));
afterAll(() => clearSeed());

function bayesNet(local = false): tf.Sequential {
  const Layer = local ? DenseLocalReparam : DenseReparam;
  const m = tf.sequential({
    layers: [
      new Layer({
        inChannels: 3,
        outChannels: 2,
        posteriorRhoInitial: [-2, 0.5],
        inputShape: [3],
      }),
    ],
  });
  setMode(m, 'sample');
  return m;
}

const softplus = (r: number): number => Math.log1p(Math.exp(r));

describe('withPosteriorScale', () => {
  it('scales every posterior std by tau inside the call and restores rho exactly', () => {
    const m = bayesNet();
    const before = m.getWeights().map((w) => Array.from(w.dataSync()));
    const n0 = tf.memory().numTensors;
    for (const tau of [0.5, 2, 3.7]) {
      const inside = withPosteriorScale(m, tau, () =>
        m.getWeights().map((w) => Array.from(w.dataSync())),
      );
      // weights: kernel_mu, kernel_rho, bias_mu, bias_rho
      for (const k of [1, 3]) {
        inside[k]!.forEach((r, i) =>
          expect(softplus(r) / softplus(before[k]![i]!)).toBeCloseTo(tau, 4),
        );
      }
      for (const k of [0, 2]) expect(inside[k]).toEqual(before[k]);
      expect(m.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    }
    expect(tf.memory().numTensors).toBe(n0);
    m.dispose();
  });

  it('output variance of a local-reparameterised layer is tau^2 sum_i x_i^2 sigma_ij^2 across rows (MC, 4 SE)', () => {
    const m = bayesNet(true);
    const w = m.getWeights().map((t) => Array.from(t.dataSync()));
    const x = [0.8, -1.3, 0.4];
    const tau = 2;
    const S = 4000;
    const xs = tf.tensor2d(Array.from({ length: S }, () => x)); // independent draws per row
    const y = withPosteriorScale(
      m,
      tau,
      () => (m.apply(xs) as tf.Tensor).arraySync() as number[][],
    );
    xs.dispose();
    for (let j = 0; j < 2; j++) {
      // the bias is drawn once per batch (shared by the rows): only the kernel varies across rows
      let v = 0;
      for (let i = 0; i < 3; i++) v += x[i]! ** 2 * softplus(w[1]![i * 2 + j]!) ** 2;
      v *= tau * tau;
      const col = y.map((r) => r[j]!);
      const mean = col.reduce((a, b) => a + b, 0) / S;
      const varHat = col.reduce((a, b) => a + (b - mean) ** 2, 0) / (S - 1);
      // SE of a normal sample variance: v sqrt(2/(S-1))
      expect(Math.abs(varHat - v)).toBeLessThan(4 * v * Math.sqrt(2 / (S - 1)));
    }
    m.dispose();
  });

  it('tau = 0 gives the posterior mean; rho is restored when the callback throws', () => {
    const m = bayesNet();
    const x = tf.tensor2d([[0.3, 0.1, -0.7]]);
    setMode(m, 'mean');
    const meanOut = Array.from((m.apply(x) as tf.Tensor).dataSync());
    setMode(m, 'sample');
    const a = withPosteriorScale(m, 0, () => Array.from((m.apply(x) as tf.Tensor).dataSync()));
    a.forEach((v, i) => expect(v).toBeCloseTo(meanOut[i]!, 5));
    const before = m.getWeights().map((t) => Array.from(t.dataSync()));
    const n0 = tf.memory().numTensors;
    expect(() =>
      withPosteriorScale(m, 2, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(tf.memory().numTensors).toBe(n0);
    expect(m.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(before);
    x.dispose();
    m.dispose();
  });

  it('rejects bad input', () => {
    const m = bayesNet();
    expect(() => withPosteriorScale(m, -1, () => 0)).toThrow(/scale/);
    expect(() => withPosteriorScale(m, Number.NaN, () => 0)).toThrow(ArgumentError);
    const plain = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    expect(() => withPosteriorScale(plain, 2, () => 0)).toThrow(/no Bayesian layer/);
    expect(() => withPosteriorScale({} as tf.LayersModel, 2, () => 0)).toThrow(/model/);
    plain.dispose();
    m.dispose();
  });
});
