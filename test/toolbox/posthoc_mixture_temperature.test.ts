/**
 * `fitMixtureTemperature`: one temperature on every sample's logits of an MC predictive, fitted by
 * held-out NLL. Checked against `fitTemperature` (S = 1, a convex problem solved by Newton) and on
 * synthetic data whose labels are drawn from a tempered mixture of known temperature.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { fitMixtureTemperature, fitTemperature } from '../../src/toolbox/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { makeRng } from '../../src/utils/seed.js';

/** Logits [S, N, K] = a per-image centre + per-sample noise (a mixture whose samples disagree). */
function synthetic(s: number, n: number, k: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const centre = Float64Array.from({ length: n * k }, () => 2 * normal());
  const z = new Float32Array(s * n * k);
  for (let j = 0; j < s; j++)
    for (let i = 0; i < n * k; i++) z[j * n * k + i] = (centre[i] as number) + 1.5 * normal();
  return z;
}

/** Labels drawn from (1/S) sum_s softmax(z_s / t). */
function drawLabels(z: Float32Array, s: number, n: number, k: number, t: number, seed: number) {
  const rng = makeRng(seed);
  return Int32Array.from({ length: n }, (_, i) => {
    const p = new Float64Array(k);
    for (let j = 0; j < s; j++) {
      const row = Array.from({ length: k }, (_, c) => (z[(j * n + i) * k + c] as number) / t);
      const mx = Math.max(...row);
      const e = row.map((v) => Math.exp(v - mx));
      const sum = e.reduce((a, v) => a + v, 0);
      e.forEach((v, c) => (p[c] = (p[c] as number) + v / sum / s));
    }
    let u = rng();
    for (let c = 0; c < k; c++) {
      u -= p[c] as number;
      if (u <= 0) return c;
    }
    return k - 1;
  });
}

describe('fitMixtureTemperature', () => {
  it('with one sample it finds the temperature of fitTemperature', () => {
    const z = synthetic(1, 500, 4, 3);
    const y = drawLabels(z, 1, 500, 4, 0.6, 4);
    const logits = tf.tensor3d(z, [1, 500, 4]);
    const flat = tf.reshape(logits, [500, 4]);
    const mix = fitMixtureTemperature(logits, y);
    const one = fitTemperature(flat, y);
    expect(mix.temperature).toBeAllclose(one.temperature, { rtol: 1e-5 });
    expect(mix.nllAfter).toBeAllclose(one.nllAfter, { rtol: 1e-7 });
    expect(mix.nllBefore).toBeAllclose(one.nllBefore, { rtol: 1e-7 });
    tf.dispose([logits, flat]);
  });

  it('recovers the temperature that generated the labels of a 5-sample mixture', () => {
    const [s, n, k] = [5, 4000, 5];
    const z = synthetic(s, n, k, 11);
    const logits = tf.tensor3d(z, [s, n, k]);
    for (const t0 of [0.5, 2]) {
      const fit = fitMixtureTemperature(logits, drawLabels(z, s, n, k, t0, 12));
      // the maximum-likelihood estimate from 4,000 labels is within a few percent of t0
      expect(Math.abs(Math.log(fit.temperature / t0))).toBeLessThan(0.1);
      expect(fit.nllAfter).toBeLessThan(fit.nllBefore);
    }
    logits.dispose();
  });

  it('leaves no tensors and refuses bad input, naming it', () => {
    const logits = tf.tensor3d(synthetic(2, 10, 3, 1), [2, 10, 3]);
    const y = new Int32Array(10);
    const before = tf.memory().numTensors;
    fitMixtureTemperature(logits, y);
    expect(tf.memory().numTensors).toBe(before);
    const flat = tf.zeros([10, 3]);
    expect(() => fitMixtureTemperature(flat, y)).toThrow(/logitSamples/);
    expect(() => fitMixtureTemperature(logits, y, { range: [2, 1] })).toThrow(/range/);
    expect(() => fitMixtureTemperature(logits, new Int32Array(3))).toThrow(ArgumentError);
    const bad = tf.tensor3d([NaN, 0, 0, 0, 0, 0], [1, 2, 3]);
    expect(() => fitMixtureTemperature(bad, [0, 1])).toThrow(/finite/);
    tf.dispose([logits, flat, bad]);
  });
  it('warns when the fit hits its lower bound range[0] (separable calibration data)', () => {
    // every sample's largest logit is the label: the mixture NLL falls monotonically as T -> 0
    const rng = makeRng(4);
    const n = 40;
    const labels = Array.from({ length: n }, (_, i) => i % 3);
    const z = new Float32Array(2 * n * 3);
    for (let s = 0; s < 2; s++)
      for (let i = 0; i < n; i++)
        for (let k = 0; k < 3; k++)
          z[(s * n + i) * 3 + k] = (k === labels[i] ? 2 : 0) + 0.5 * rng();
    const logits = tf.tensor3d(z, [2, n, 3]);
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const fit = fitMixtureTemperature(logits, labels);
      expect(fit.temperature).toBeCloseTo(0.05, 6);
      expect(fit.warning).toMatch(
        /fitMixtureTemperature hit its lower bound T = 0\.05 \(range\[0\]\).*separate the 40 calibration examples perfectly.*held-out data/,
      );
      expect(spy).toHaveBeenCalledWith(fit.warning);
      // data that are not separable: no warning
      spy.mockClear();
      const mixed = tf.tensor3d(synthetic(2, 50, 3, 7), [2, 50, 3]);
      const ok = fitMixtureTemperature(
        mixed,
        new Int32Array(50).map((_, i) => i % 3),
      );
      expect(ok.warning).toBeUndefined();
      expect(spy).not.toHaveBeenCalled();
      mixed.dispose();
    } finally {
      spy.mockRestore();
      logits.dispose();
    }
  });
});
