import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HalfNormal, Normal } from '../../../src/distributions/index.js';
import { factor } from '../../../src/ppl/factor.js';
import { ChainRng, ModelPotential, initialPoint } from '../../../src/ppl/mcmc/index.js';
import { sample } from '../../../src/ppl/runtime.js';
import { finiteDiff } from '../../helpers.js';

const x = [0.4, 1.9, -0.3];

/** mu ~ N(0, 1), s ~ HalfNormal(2), factor -(mu - 2)^2 / 2, x_i ~ N(mu, s). */
function model(obs: tf.Tensor): void {
  const mu = sample('mu', new Normal(0, 1));
  const s = sample('s', new HalfNormal(2));
  factor('pull', tf.mul(-0.5, tf.square(tf.sub(mu, 2))));
  sample('x', new Normal(mu, s), { obs });
}

/** The same potential in float64 by hand: s = exp(z_s), with the log-Jacobian z_s. */
function handU(z: number[]): number {
  const [mu, zs] = z as [number, number];
  const s = Math.exp(zs);
  const logN = (v: number, m: number, sd: number): number =>
    -0.5 * ((v - m) / sd) ** 2 - Math.log(sd) - 0.5 * Math.log(2 * Math.PI);
  let lp = logN(mu, 0, 1) + Math.log(2) + logN(s, 0, 2) - 0.5 * (mu - 2) ** 2 + zs;
  for (const v of x) lp += logN(v, mu, s);
  return -lp;
}

describe('ModelPotential', () => {
  it('U(z) = -(log p(x, T(z)) + log|J_T(z)|) with factor sites; gradient = finite differences', () => {
    const obs = tf.tensor1d(x);
    const { sites } = initialPoint(model, [obs], 'uniform', new ChainRng(0));
    expect(sites.map((s) => s.name)).toEqual(['mu', 's']);
    const pot = new ModelPotential(model, [obs], sites);
    const before = tf.memory().numTensors;
    for (const z of [
      [0.3, -0.2],
      [1.7, 0.9],
      [-1, 0.1],
    ]) {
      const { value, grad } = pot.valueAndGrad(Float64Array.from(z));
      expect(value).toBeCloseTo(handU(z), 4);
      expect(Array.from(grad)).toBeAllclose(finiteDiff(handU, z, 1e-5), { rtol: 1e-3, atol: 1e-3 });
    }
    expect(tf.memory().numTensors).toBe(before);
    // a scale that overflows to infinity far out on a trajectory: infinite energy, not an error
    expect(pot.valueAndGrad(Float64Array.from([0, 1e4])).value).toBe(Infinity);
    obs.dispose();
  });
});
