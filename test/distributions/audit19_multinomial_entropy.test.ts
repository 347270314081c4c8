/**
 * Audit 19: `Multinomial.entropy()` threw NotDefinedError; torch computes it through the
 * binomial marginals, `H = n H(p) - log n! + Σ_k E[log X_k!]`. Reference: brute-force
 * enumeration of every composition of `n` into `K` parts, `-Σ_x P(x) log P(x)` in float64 from
 * @stdlib's `gammaln`, for batched probabilities with a zero, a batched `totalCount` (one per
 * entry, NumPyro) and `n = 0`; the gradient in the probabilities against finite differences of
 * the same enumeration; no tensor left.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import gammaln from '@stdlib/math-base-special-gammaln';
import { distributions as d } from '../../src/index.js';
import { finiteDiff } from '../helpers.js';

/** Every vector of `k` non-negative integers summing to `n`. */
function compositions(n: number, k: number): number[][] {
  if (k === 1) return [[n]];
  const out: number[][] = [];
  for (let a = 0; a <= n; a++)
    for (const rest of compositions(n - a, k - 1)) out.push([a, ...rest]);
  return out;
}

function entropyRef(n: number, p: number[]): number {
  let h = 0;
  for (const x of compositions(n, p.length)) {
    let l = gammaln(n + 1);
    let zero = false;
    x.forEach((xi, i) => {
      l -= gammaln(xi + 1);
      if (xi > 0) {
        if ((p[i] as number) === 0) zero = true;
        else l += xi * Math.log(p[i] as number);
      }
    });
    if (!zero) h -= Math.exp(l) * l;
  }
  return h;
}

describe('Multinomial entropy', () => {
  it('equals the enumerated entropy: batched probabilities (one zero), one n', () => {
    const probs = [
      [0.2, 0.3, 0.5],
      [0.6, 0, 0.4],
      [0.1, 0.1, 0.8],
    ];
    const m = new d.Multinomial(7, probs);
    const before = tf.memory().numTensors;
    const h = m.entropy();
    expect(h.shape).toEqual([3]);
    const got = Array.from(h.dataSync());
    h.dispose();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
    expect(got).toBeAllclose(
      probs.map((p) => entropyRef(7, p)),
      { rtol: 1e-4, atol: 1e-5 },
    );
  });

  it('a totalCount per batch entry (including 0) broadcasts against the probabilities', () => {
    const m = new d.Multinomial([0, 4, 12], [0.25, 0.25, 0.5]);
    const h = m.entropy();
    expect(h.shape).toEqual([3]);
    const got = Array.from(h.dataSync());
    h.dispose();
    m.dispose();
    expect(got).toBeAllclose(
      [0, 4, 12].map((n) => entropyRef(n, [0.25, 0.25, 0.5])),
      { rtol: 1e-4, atol: 1e-5 },
    );
  });

  it('is differentiable in the probabilities (finite differences of the enumeration)', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor([0.2, 0.3, 0.5]);
    const g = tf.grad((p: tf.Tensor) => {
      const m = new d.Multinomial(5, p);
      try {
        return m.entropy() as tf.Scalar;
      } finally {
        m.dispose();
      }
    })(x);
    const got = Array.from(g.dataSync());
    tf.dispose([g, x]);
    expect(tf.memory().numTensors).toBe(before);
    // the family normalises its probs (torch), so the reference does too
    const norm = (p: number[]): number[] => p.map((v) => v / p.reduce((a, b) => a + b, 0));
    const ref = finiteDiff((p) => entropyRef(5, norm(p)), [0.2, 0.3, 0.5], 1e-5);
    expect(got).toBeAllclose(ref, { rtol: 2e-3, atol: 2e-4 });
  });
});
