/**
 * Audit 19: `UncertaintyEvaluation.evalEpistemicUncertainty` of a binary classifier with one
 * output. It is documented `[N, K]` with `K = numClasses = 2` but returned `[N, 1]` (the variance
 * of the raw output). A single output is now read as its two classes, as the training loss reads
 * it: a sigmoid's `[1 - p, p]` (both columns `Var_t p_t`), a logit's `[0, z]` (`[0, Var_t z_t]`).
 * Checked: shapes (also of an empty input), equal columns, and the variance against a float64 Monte
 * Carlo estimate of `Var_t p_t` from passes run by hand, within its standard error.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { setSeed, toolbox } from '../../src/index.js';
import { glorot as g } from '../fixtures/layers.js';
import { expectNoLeakAsync } from '../helpers.js';

function binaryNet(activation: 'sigmoid' | 'linear'): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 16, activation: 'relu', kernelInitializer: g(1) }),
      tf.layers.dropout({ rate: 0.4 }),
      tf.layers.dense({ units: 1, activation, kernelInitializer: g(2) }),
    ],
  });
}

/** Float64 mean, variance and the standard error of the variance of a sample. */
function varianceWithSe(v: number[]): { mean: number; v: number; se: number } {
  const n = v.length;
  const mean = v.reduce((s, a) => s + a, 0) / n;
  const m2 = v.reduce((s, a) => s + (a - mean) ** 2, 0) / n;
  const m4 = v.reduce((s, a) => s + (a - mean) ** 4, 0) / n;
  return { mean, v: m2, se: Math.sqrt(Math.max(m4 - m2 * m2, 0) / n) };
}

describe('audit19 epistemic uncertainty of a one-output binary classifier is [N, 2]', () => {
  it('a sigmoid output: [Var p, Var p], matching passes run by hand', async () => {
    setSeed(4);
    const model = binaryNet('sigmoid');
    const T = 600;
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      taskType: 'classification',
      numClasses: 2,
      mcSamples: T,
    });
    const probe = tf.tensor2d([
      [0.5, -1, 2],
      [1, 1, 1],
    ]);
    const epi = await expectNoLeakAsync(async () => {
      const e = await ue.evalEpistemicUncertainty(probe);
      expect(e.shape).toEqual([2, 2]);
      const v = Array.from(e.dataSync());
      e.dispose();
      return v;
    });
    expect(epi[0]).toBeCloseTo(epi[1] as number, 6);
    expect(epi[2]).toBeCloseTo(epi[3] as number, 6);
    // an independent estimate: T passes with dropout on (no BatchNorm: training mode is the same)
    const rows = tf.tidy(() => {
      const xs = tf.tile(probe, [T, 1]);
      return Array.from((model.apply(xs, { training: true }) as tf.Tensor).dataSync());
    });
    for (let i = 0; i < 2; i++) {
      const p = rows.filter((_, j) => j % 2 === i);
      const ref = varianceWithSe(p);
      expect(ref.v).toBeGreaterThan(1e-4);
      // two independent estimates of the same variance: their difference within 5 SE of each
      expect(Math.abs((epi[2 * i] as number) - ref.v)).toBeLessThan(5 * Math.SQRT2 * ref.se);
    }
    const empty = tf.zeros([0, 3]);
    const e0 = await ue.evalEpistemicUncertainty(empty);
    expect(e0.shape).toEqual([0, 2]);
    tf.dispose([e0, empty, probe]);
    ue.dispose();
    model.dispose();
  });

  it('a logit output: [0, Var z]', async () => {
    setSeed(6);
    const model = binaryNet('linear');
    const ue = new toolbox.UncertaintyEvaluation({
      model,
      taskType: 'classification',
      numClasses: 2,
      mcSamples: 50,
    });
    const probe = tf.tensor2d([[0.5, -1, 2]]);
    const e = await ue.evalEpistemicUncertainty(probe);
    expect(e.shape).toEqual([1, 2]);
    const v = Array.from(e.dataSync());
    expect(v[0]).toBe(0);
    expect(v[1]).toBeGreaterThan(0);
    tf.dispose([e, probe]);
    ue.dispose();
    model.dispose();
  });
});
