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

  it('Normal with outputScale: the exact negative log-likelihood of N(x̂, s^2) in nats', () => {
    const o = out();
    const s = 0.3;
    const nll = flat(x).reduce((acc, v, i) => {
      const d = v - (flat(r)[i] as number);
      return acc + (d * d) / (2 * s * s) + Math.log(s) + 0.5 * Math.log(2 * Math.PI);
    }, 0);
    const [v] = expectNoLeak(() => new ELBO({ outputScale: s }).call(o));
    expect(v).toBeCloseTo(nll + kl, 3);
    expect(() => new ELBO({ outputScale: 0 })).toThrow(/outputScale.*> 0, got 0/);
    expect(() => new ELBO({ outputPrior: 'Bernoulli', outputScale: 1 })).toThrow(/outputScale/);
    tf.dispose(Object.values(o));
  });

  it('Bernoulli from logits: stable for pixels exactly 0/1 and logits of any size', () => {
    const xs = [
      [0, 1, 1, 0, 0.5],
      [1, 0, 1, 0, 1],
    ];
    const ls = [
      [-100, 100, -100, 100, 3],
      [0.5, -2, 40, -40, -0.7],
    ];
    // float64 reference: -log sigmoid(l) = log(1 + e^-l), -log(1 - sigmoid(l)) = log(1 + e^l)
    const sp = (t: number): number => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
    const want = xs.flat().reduce((acc, v, i) => {
      const l = ls.flat()[i] as number;
      return acc + v * sp(-l) + (1 - v) * sp(l);
    }, 0);
    const xt = tf.tensor2d(xs);
    const lt = tf.tensor2d(ls);
    const loss = new ELBO({ outputPrior: 'Bernoulli', fromLogits: true });
    const [v] = expectNoLeak(() => loss.reconstructionLoss(xt, lt));
    expect(v).toBeCloseTo(want, 3);
    // gradient: sigmoid(l) - x, finite everywhere
    const g = tf.grad((l: tf.Tensor) => loss.reconstructionLoss(xt, l))(lt);
    const gv = Array.from(g.dataSync());
    gv.forEach((gi, i) => {
      const l = ls.flat()[i] as number;
      expect(gi).toBeCloseTo(1 / (1 + Math.exp(-l)) - (xs.flat()[i] as number), 5);
    });
    tf.dispose([xt, lt, g]);
    expect(() => new ELBO({ fromLogits: true })).toThrow(/fromLogits.*'Bernoulli'/);
  });

  it('Bernoulli from probabilities refuses a decoder output outside [0, 1], naming fromLogits', () => {
    const xt = tf.tensor2d([[0, 1]]);
    const lt = tf.tensor2d([[-3, 2]]);
    const before = tf.memory().numTensors;
    // the old loss clipped -3 and 2 into [1e-7, 1 - 1e-7] and returned 0 (no error)
    expect(() => new ELBO({ outputPrior: 'Bernoulli' }).reconstructionLoss(xt, lt)).toThrow(
      /reconX.*\[0, 1\].*fromLogits: true.*got -3/,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xt, lt]);
  });
});
