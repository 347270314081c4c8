/**
 * Angles: the von Mises support is `circular` (every real admissible, `bijectTo` onto
 * `(-pi, pi)`), so NUTS on a latent angle samples one period of a proper density instead of
 * drifting over the periods of an improper one.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { VonMises, bijectTo, constraints } from '../../../src/distributions/index.js';
import { constraintFromSpec, constraintToSpec } from '../../../src/ppl/constraint_spec.js';
import { MCMC, NUTS } from '../../../src/ppl/mcmc/index.js';
import { sample } from '../../../src/ppl/runtime.js';
import { finiteDiff } from '../../helpers.js';

/** Modified Bessel function I_n(x) by its power series, float64 (independent of the library). */
function besselI(n: number, x: number): number {
  let term = (x / 2) ** n;
  for (let k = 1; k <= n; k++) term /= k;
  let sum = term;
  for (let k = 1; k < 60; k++) {
    term *= (x * x) / 4 / (k * (k + n));
    sum += term;
  }
  return sum;
}

describe('the circular constraint', () => {
  it('admits every real angle and maps the reals onto (-pi, pi) with the right log|J|', () => {
    const c = constraints.circular;
    expect(new VonMises(0, 1).support.kind).toBe('circular');
    const x = tf.tensor1d([-7, 0, 3.5, 12]);
    expect(Array.from(c.check(x).dataSync())).toEqual([1, 1, 1, 1]);
    const b = bijectTo(c);
    const u = [-30, -1.2, 0, 0.7, 30];
    const { y, logDet } = b.forwardAndLogDet(tf.tensor1d(u));
    const yv = Array.from(y.dataSync());
    for (const v of yv) expect(Math.abs(v)).toBeLessThanOrEqual(Math.PI + 1e-6); // float32 pi
    // log|dy/du| against a central difference of the forward map, per coordinate (float64 host)
    const f = (v: number): number => -Math.PI + (2 * Math.PI) / (1 + Math.exp(-v));
    const fd = u.slice(1, 4).map((v) => Math.log(finiteDiff((z) => f(z[0] as number), [v])[0]!));
    expect(Array.from(logDet.dataSync()).slice(1, 4)).toBeAllclose(fd, { atol: 1e-4 });
    tf.dispose([x, y, logDet]);
    b.dispose();
    // saved with a parameter store and read back
    expect(constraintFromSpec(constraintToSpec(c))).toBe(c);
  });

  it('NUTS on a von Mises latent: E[cos(x - loc)] = I1(k)/I0(k) within 4 standard errors', async () => {
    // (a mode near +-pi splits into two far-apart modes of the unconstrained space, as in NumPyro)
    const loc = 1;
    const kappa = 2;
    const model = (): void => {
      sample('x', new VonMises(loc, kappa));
    };
    const mcmc = new MCMC(new NUTS(model), {
      numSamples: 1500,
      warmupSteps: 400,
      progressBar: false,
      seed: 5,
    });
    await mcmc.run();
    const s = mcmc.getSamples().x as tf.Tensor;
    const xs = Array.from(s.dataSync());
    s.dispose();
    for (const v of xs) expect(Math.abs(v)).toBeLessThanOrEqual(Math.PI + 1e-6);
    const c = xs.map((v) => Math.cos(v - loc));
    const mean = c.reduce((a, b) => a + b, 0) / c.length;
    const exact = besselI(1, kappa) / besselI(0, kappa);
    // Var cos(x - loc) = (1 + I2/I0)/2 - (I1/I0)^2; the draws' ESS from the sampler's own summary
    const varCos = (1 + besselI(2, kappa) / besselI(0, kappa)) / 2 - exact ** 2;
    const ess = mcmc.summary().x?.elements[0]?.essBulk as number;
    expect(ess).toBeGreaterThan(200);
    expect(Math.abs(mean - exact)).toBeLessThan(4 * Math.sqrt(varCos / ess));
  });
});
