/**
 * Audit 18: the `'nn'` gridsearch of a regressor scored the validation Gaussian NLL with the
 * population variance of the `S` sampled networks' outputs (`/S`); laplace-torch's
 * `pred_type='nn'` regression moments are `samples.mean(0), samples.var(0)`, the sample variance
 * (`/(S-1)`). With few draws the two pick different precisions. The reference here: the NLL at
 * every grid point from `nnSampleOutputs` (the same draws) with the `S - 1` variance, in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';

const { lastLayerLaplace, allLayersLaplace } = toolbox;

/**
 * A 2-6-2 tanh regressor (weights seeded by `sd`), training data, and validation targets = its
 * outputs + N(0, 0.5^2) noise, so that the best precision lies inside the grid.
 */
function setup(sd: number) {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 6, inputShape: [2], activation: 'tanh' }));
  m.add(tf.layers.dense({ units: 2 }));
  const ws = m.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.8, 'float32', sd * 10 + i));
  m.setWeights(ws);
  tf.dispose(ws);
  const x = tf.randomNormal([20, 2], 0, 1, 'float32', sd) as tf.Tensor2D;
  const y = tf.randomNormal([20, 2], 0, 1, 'float32', sd + 100) as tf.Tensor2D;
  const xVal = tf.randomNormal([10, 2], 0, 1.5, 'float32', sd + 200) as tf.Tensor2D;
  const yVal = tf.tidy(() =>
    tf.add(m.predict(xVal) as tf.Tensor, tf.randomNormal([10, 2], 0, 0.5, 'float32', sd + 300)),
  ) as tf.Tensor2D;
  return { m, x, y, xVal, yVal };
}

/** Mean Gaussian NLL of targets under the draws' mean and sample variance plus sigma^2. */
function nnNll(f: number[][][], y: number[][], sigma: number): number {
  const s = f.length;
  let total = 0;
  y.forEach((row, n) =>
    row.forEach((t, k) => {
      const vals = f.map((fs) => fs[n]![k]!);
      const mean = vals.reduce((a, b) => a + b, 0) / s;
      const v = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / (s - 1) + sigma * sigma;
      total += 0.5 * (Math.log(2 * Math.PI * v) + (t - mean) ** 2 / v);
    }),
  );
  return total / y.length;
}

describe("audit18 Laplace: 'nn' gridsearch of a regressor uses the sample variance", () => {
  // seeds where the S - 1 and S variances give different grid points (checked: 12 vs 20, 18 vs 17)
  for (const [kind, sd] of [
    ['last', 4],
    ['all', 3],
  ] as const) {
    it(`${kind} layer(s): picks the independent argmin (S = 3)`, () => {
      const { m, x, y, xVal, yVal } = setup(sd);
      const yv = yVal.arraySync();
      const sigma = 0.3;
      const o = { likelihood: 'regression' as const, sigmaNoise: sigma };
      const S = 3;
      const seed = 11;
      const la =
        kind === 'last'
          ? lastLayerLaplace(m, x, y, { ...o, hessianStructure: 'full' })
          : allLayersLaplace(m, x, y, { ...o, hessianStructure: 'diag' });
      const grid = Array.from({ length: 25 }, (_, i) => 10 ** (-3 + (i * 6) / 24));
      const nlls = grid.map((d) => {
        la.priorPrecision = d;
        const f = la.nnSampleOutputs(xVal, S, seed);
        const v = nnNll(f.arraySync(), yv, sigma);
        f.dispose();
        return v;
      });
      const at = nlls.indexOf(Math.min(...nlls));
      expect(at).toBeGreaterThan(0); // an interior optimum: the variance matters
      const before = tf.memory().numTensors;
      const d = la.optimizePriorPrecision({
        method: 'gridsearch',
        predType: 'nn',
        xVal,
        yVal,
        numSamples: S,
        seed,
        gridSize: 25,
        logPriorPrecMin: -3,
        logPriorPrecMax: 3,
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(d).toBeCloseTo(grid[at]!, 10);
      tf.dispose([x, y, xVal, yVal]);
      m.dispose();
    });
  }
});

describe('audit18 Laplace gridsearch: grid points at integer exponents are exact powers of ten', () => {
  it('the default grid ends are 1e-4 and 1e4 (Math.pow(10, -4) is 9.999999999999999e-5)', () => {
    const { m, x, y, xVal, yVal } = setup(4);
    const la = lastLayerLaplace(m, x, y, { likelihood: 'regression', sigmaNoise: 0.01 });
    // validation targets 50 away: the widest predictive (the smallest precision) wins
    const far = tf.add(yVal, 50);
    expect(la.optimizePriorPrecision({ method: 'gridsearch', xVal, yVal: far })).toBe(1e-4);
    expect(
      la.optimizePriorPrecision({
        method: 'gridsearch',
        xVal,
        yVal: far,
        logPriorPrecMin: -5,
        gridSize: 7,
      }),
    ).toBe(1e-5);
    // the network's own outputs with sigma 0.01: the narrowest (the largest precision) wins
    const own = m.predict(xVal) as tf.Tensor;
    expect(la.optimizePriorPrecision({ method: 'gridsearch', xVal, yVal: own })).toBe(1e4);
    tf.dispose([far, own, x, y, xVal, yVal]);
    m.dispose();
  });
});
