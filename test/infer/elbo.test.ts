import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ELBO } from '../../src/infer/elbo.js';
import { expectNoLeak } from '../helpers.js';

const x = [
  [0.1, 0.9, 0.5, 0.0],
  [1.0, 0.2, 0.3, 0.7],
];
const r = [
  [0.2, 0.8, 0.4, 0.1],
  [0.9, 0.1, 0.5, 0.6],
];
const mu = [
  [0.3, -0.2],
  [1.1, 0.0],
];
const sd = [
  [0.5, 1.2],
  [0.9, 0.3],
];
const flat = (a: number[][]): number[] => a.flat();
const kl = flat(mu).reduce((s, m, i) => {
  const v = flat(sd)[i] as number;
  return s + 0.5 * (v * v + m * m - 1) - Math.log(v);
}, 0);

function out(): { reconX: tf.Tensor; x: tf.Tensor; mu: tf.Tensor; std: tf.Tensor } {
  return { reconX: tf.tensor2d(r), x: tf.tensor2d(x), mu: tf.tensor2d(mu), std: tf.tensor2d(sd) };
}

describe('infer.ELBO', () => {
  it('Normal output prior: squared error summed over pixels plus the analytic KL', () => {
    const o = out();
    const se = flat(x).reduce((s, v, i) => s + (v - (flat(r)[i] as number)) ** 2, 0);
    const [v] = expectNoLeak(() =>
      new ELBO({ latentPrior: 'Normal', outputPrior: 'Normal' }).call(o),
    );
    expect(v).toBeCloseTo(se + kl, 4);
    const [m] = expectNoLeak(() => new ELBO({ reduction: 'mean' }).call(o));
    expect(m).toBeCloseTo((se + kl) / 2, 4);
    tf.dispose(Object.values(o));
  });

  it('Bernoulli output prior: binary cross-entropy summed plus KL', () => {
    const o = out();
    const bce = flat(x).reduce((s, v, i) => {
      const p = flat(r)[i] as number;
      return s - (v * Math.log(p) + (1 - v) * Math.log(1 - p));
    }, 0);
    const [v] = expectNoLeak(() => new ELBO({ outputPrior: 'Bernoulli' }).call(o));
    expect(v).toBeCloseTo(bce + kl, 3);
    tf.dispose(Object.values(o));
  });

  it('rejects unknown priors and mismatched shapes', () => {
    expect(() => new ELBO({ outputPrior: 'Poisson' as 'Normal' })).toThrow(/outputPrior/);
    expect(() => new ELBO({ latentPrior: 'Laplace' as 'Normal' })).toThrow(/latentPrior/);
    const o = out();
    const bad = { ...o, reconX: tf.zeros([2, 3]) };
    expect(() => new ELBO().call(bad)).toThrow(/reconX/);
    tf.dispose([...Object.values(o), bad.reconX]);
  });
});
