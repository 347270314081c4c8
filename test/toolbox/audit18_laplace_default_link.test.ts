/**
 * Audit 18: the default link of the all-layers `predictProbs` was `'mc'` (100 random draws, a
 * different answer at every call without a seed), documented as laplace-torch's default; laplace-torch's
 * `__call__` defaults to `link_approx='probit'`, and so does the last-layer fit here. Now both
 * default to probit: deterministic, `softmax(mu / sqrt(1 + pi/8 diag(J Sigma J^T)))` computed
 * here from `glmPredictive` in float64. `numSamples` is checked whatever the link.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';

const { lastLayerLaplace, allLayersLaplace } = toolbox;

function net(layers: number[], seed: number): tf.Sequential {
  const m = tf.sequential();
  layers.forEach((units, i) =>
    m.add(
      tf.layers.dense({
        units,
        ...(i === 0 ? { inputShape: [3] } : {}),
        activation: i < layers.length - 1 ? 'tanh' : 'linear',
      }),
    ),
  );
  const ws = m.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 1, 'float32', seed + i));
  m.setWeights(ws);
  tf.dispose(ws);
  return m;
}

/** Probit probabilities from the GLM mean and covariance, in float64. */
function probit(mean: number[][], cov: number[][][]): number[][] {
  return mean.map((mu, n) => {
    const z = mu.map((m, k) => m / Math.sqrt(1 + (Math.PI / 8) * cov[n]![k]![k]!));
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

describe('audit18 Laplace: the default link is probit for both fits', () => {
  const x = tf.randomNormal([14, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
  const y = Array.from({ length: 14 }, (_, i) => (i * 5) % 3);

  it('all layers: predictProbs(x) is deterministic and equals the probit formula on glmPredictive', () => {
    const m = net([5, 3], 4);
    for (const hessianStructure of ['kron', 'diag'] as const) {
      const la = allLayersLaplace(m, x, y, { hessianStructure, priorPrecision: 0.5 });
      const before = tf.memory().numTensors;
      const a = la.predictProbs(x);
      const b = la.predictProbs(x);
      const av = a.arraySync();
      expect(b.arraySync()).toEqual(av);
      tf.dispose([a, b]);
      const { mean, cov } = la.glmPredictive(x);
      const ref = probit(mean.arraySync(), cov.arraySync());
      tf.dispose([mean, cov]);
      expect(tf.memory().numTensors).toBe(before);
      for (let n = 0; n < 14; n++)
        for (let k = 0; k < 3; k++) expect(av[n]![k]).toBeCloseTo(ref[n]![k]!, 5);
      // and not the MC mean: the variance makes MC differ from probit by more than round-off
      const mc = la.predictProbs(x, { link: 'mc', numSamples: 5, seed: 1 });
      const mv = mc.arraySync();
      mc.dispose();
      expect(
        Math.max(...mv.flatMap((r, n) => r.map((v, k) => Math.abs(v - av[n]![k]!)))),
      ).toBeGreaterThan(1e-4);
    }
    m.dispose();
  });

  it('one Dense layer: the all-layers and last-layer defaults agree (kron, the same posterior)', () => {
    const m = net([3], 8);
    const all = allLayersLaplace(m, x, y, { hessianStructure: 'kron' }).predictProbs(x);
    const last = lastLayerLaplace(m, x, y, { hessianStructure: 'kron' }).predictProbs(x);
    const av = all.arraySync();
    const lv = last.arraySync();
    tf.dispose([all, last]);
    for (let n = 0; n < 14; n++)
      for (let k = 0; k < 3; k++) expect(av[n]![k]).toBeCloseTo(lv[n]![k]!, 5);
    m.dispose();
  });

  it('a bad numSamples is refused with the probit link too (both fits)', async () => {
    const m = net([4, 3], 1);
    for (const la of [lastLayerLaplace(m, x, y), allLayersLaplace(m, x, y)]) {
      for (const numSamples of [0, 2.5, -1]) {
        await expectBadInput({
          call: `numSamples ${numSamples}`,
          run: () => la.predictProbs(x, { numSamples }),
          arg: 'numSamples',
        });
      }
    }
    m.dispose();
  });
});
