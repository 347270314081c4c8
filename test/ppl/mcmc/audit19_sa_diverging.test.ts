/**
 * Audit 19: `SA` reports NumPyro's `diverging` (one of SA's `default_fields`): a transition whose
 * proposal's potential exceeds the current draw's by more than `max_delta_energy = 1000` (a NaN
 * potential counting as `+∞`). Every SA transition was `divergent: false`. On a target whose
 * potential is `+∞` outside `(-1, 1)` (a truncated Gaussian) and bounded inside, a transition
 * diverges exactly when its proposal falls outside, which is exactly when the proposal is removed
 * with acceptance 0; some do, and `numDivergences` counts them. A Gaussian target's draws are
 * still within 5 MC SE of its moments, with no divergence.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ppl } from '../../../src/index.js';
import type { Potential } from '../../../src/ppl/mcmc/potential.js';

// U(z) = z^2 / 2 on (-1, 1), +∞ outside (NaN at |z| > 2, which counts as +∞ too)
const truncated: Potential = {
  dim: 1,
  valueAndGrad: (z) => {
    const v = z[0] as number;
    const value = Math.abs(v) < 1 ? 0.5 * v * v : Math.abs(v) > 2 ? NaN : Infinity;
    return { value, grad: Float64Array.of(v) };
  },
};
const gauss: Potential = {
  dim: 1,
  valueAndGrad: (z) => ({ value: 0.5 * (z[0] as number) ** 2, grad: Float64Array.of(z[0]!) }),
};

describe("SA's diverging (NumPyro: proposal's U - current U > 1000)", () => {
  it('a proposal outside the support diverges (acceptance 0); one inside does not', () => {
    const before = tf.memory().numTensors;
    const m = new ppl.MCMC(new ppl.SA(truncated, { adaptStateSize: 4 }), {
      numSamples: 400,
      warmupSteps: 200,
      numChains: 2,
      seed: 8,
      progressBar: false,
      initParams: [0.1],
    });
    m.runSync();
    const stats = m.getExtraFields();
    let n = 0;
    for (const s of stats) {
      s.divergent.forEach((d, i) => {
        // a proposal outside is removed first (acceptance 0); inside, U differs by < 1/2
        expect(d, `iteration ${i}`).toBe(s.acceptStat[i] === 0);
        if (d) n += 1;
      });
    }
    expect(n).toBeGreaterThan(0);
    expect(m.numDivergences).toBe(n);
    const f = m.getExtraFields({ fields: ['diverging'] });
    expect(Array.from(f.diverging!.dataSync()).filter((v) => v === 1).length).toBe(n);
    tf.dispose(Object.values(f));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a standard normal: no divergence, mean and variance within 5 MC SE', () => {
    const m = new ppl.MCMC(new ppl.SA(gauss, { adaptStateSize: 6 }), {
      numSamples: 2000,
      warmupSteps: 500,
      numChains: 2,
      seed: 3,
      progressBar: false,
    });
    m.runSync();
    expect(m.numDivergences).toBe(0);
    const g = m.getSamples({ groupByChain: true });
    const ch = (Object.values(g)[0]!.arraySync() as number[][][]).map((c) => c.map((d) => d[0]!));
    tf.dispose(Object.values(g));
    const flat = ch.flat();
    const ess = Math.max(ppl.mcmc.essBulk(ch), 20);
    const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
    const v = flat.reduce((a, b) => a + (b - mean) ** 2, 0) / (flat.length - 1);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(1 / ess));
    expect(Math.abs(v - 1)).toBeLessThan(5 * Math.sqrt(2 / ess));
  });
});
