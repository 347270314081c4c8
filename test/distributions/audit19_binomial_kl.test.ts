/**
 * Audit 19: `KL(Binomial ‖ Binomial)` with unequal counts threw an ArgumentError for every
 * pair. As torch: `+Infinity` where `n_p > n_q` (q has no mass on `n_q < k <= n_p`); where
 * `n_p < n_q` (torch raises) the exact value, checked against brute-force enumeration
 * `Σ_k P_p(k) log(P_p(k) / P_q(k))` in float64 (@stdlib's binomial pmf); batches that mix the
 * three cases; finite gradients in both probabilities; no tensor left. Also the entropy gradient
 * of Binomial and BetaBinomial in a batch whose counts differ (NaN before: terms outside the
 * support multiplied -inf by 0).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import binomialRef from '@stdlib/stats-base-dists-binomial';
import gammaln from '@stdlib/math-base-special-gammaln';
import { distributions as d } from '../../src/index.js';
import { finiteDiff } from '../helpers.js';

const pmf = binomialRef.pmf as (k: number, n: number, p: number) => number;

function klRef(np: number, pp: number, nq: number, pq: number): number {
  if (np > nq) return Infinity;
  let s = 0;
  for (let k = 0; k <= np; k++) {
    const a = pmf(k, np, pp);
    if (a > 0) s += a * Math.log(a / pmf(k, nq, pq));
  }
  return s;
}

describe('KL between binomials of unequal counts', () => {
  it('is +Infinity where n_p > n_q, the enumerated sum where n_p < n_q, closed form when equal', () => {
    const before = tf.memory().numTensors;
    const np = [5, 3, 10, 6, 40];
    const pp = [0.3, 0.5, 0.8, 0.2, 0.6];
    const nq = [3, 8, 10, 30, 41];
    const pq = [0.4, 0.3, 0.6, 0.5, 0.55];
    const p = new d.Binomial(np, pp);
    const q = new d.Binomial(nq, pq);
    const kl = p.klDivergence(q);
    const got = Array.from(kl.dataSync());
    tf.dispose(kl);
    p.dispose();
    q.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const want = np.map((n, i) => klRef(n, pp[i] as number, nq[i] as number, pq[i] as number));
    expect(got[0]).toBe(Infinity);
    expect(got.slice(1)).toBeAllclose(want.slice(1), { rtol: 1e-4, atol: 1e-5 });
  });

  it('broadcasts p of batch [2] against q of batch [3, 1]', () => {
    const p = new d.Binomial([4, 9], [0.3, 0.7]);
    const q = new d.Binomial([[4], [12], [2]], [[0.5], [0.4], [0.9]]);
    const kl = p.klDivergence(q);
    expect(kl.shape).toEqual([3, 2]);
    const got = Array.from(kl.dataSync());
    kl.dispose();
    p.dispose();
    q.dispose();
    const want = [
      klRef(4, 0.3, 4, 0.5),
      klRef(9, 0.7, 4, 0.5),
      klRef(4, 0.3, 12, 0.4),
      klRef(9, 0.7, 12, 0.4),
      Infinity,
      Infinity,
    ];
    expect(got.slice(0, 4)).toBeAllclose(want.slice(0, 4), { rtol: 1e-4, atol: 1e-5 });
    expect(got.slice(4)).toEqual([Infinity, Infinity]);
  });

  it('is differentiable in both probabilities where n_p < n_q (finite differences)', () => {
    const before = tf.memory().numTensors;
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
      const p = new d.Binomial([3, 5], a);
      const q = new d.Binomial([7, 5], b);
      try {
        return tf.sum(p.klDivergence(q)) as tf.Scalar;
      } finally {
        p.dispose();
        q.dispose();
      }
    };
    const a = tf.tensor([0.3, 0.6]);
    const b = tf.tensor([0.45, 0.5]);
    const [ga, gb] = tf.grads(f)([a, b]);
    const g = [
      ...Array.from((ga as tf.Tensor).dataSync()),
      ...Array.from((gb as tf.Tensor).dataSync()),
    ];
    tf.dispose([ga, gb, a, b]);
    expect(tf.memory().numTensors).toBe(before);
    const ref = finiteDiff(
      ([a0, a1, b0, b1]) => klRef(3, a0!, 7, b0!) + klRef(5, a1!, 5, b1!),
      [0.3, 0.6, 0.45, 0.5],
      1e-5,
    );
    expect(g).toBeAllclose(ref, { rtol: 1e-3, atol: 1e-4 });
  });
});

describe('Binomial entropy gradient in a batch of unequal counts', () => {
  it('is finite and equals finite differences of the enumerated entropy (it was NaN)', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor([0.3, 0.6]);
    const g = tf.grad((p: tf.Tensor) => {
      const b = new d.Binomial([3, 10], p);
      try {
        return tf.sum(b.entropy());
      } finally {
        b.dispose();
      }
    })(x);
    const got = Array.from(g.dataSync());
    tf.dispose([g, x]);
    expect(tf.memory().numTensors).toBe(before);
    const h = (n: number, p: number): number => {
      let s = 0;
      for (let k = 0; k <= n; k++) {
        const m = pmf(k, n, p);
        if (m > 0) s -= m * Math.log(m);
      }
      return s;
    };
    const ref = finiteDiff(([a, b]) => h(3, a!) + h(10, b!), [0.3, 0.6], 1e-5);
    expect(got).toBeAllclose(ref, { rtol: 1e-3, atol: 1e-4 });
  });
});

describe('BetaBinomial entropy gradient in a batch of unequal counts', () => {
  it('is finite and equals finite differences of the enumerated entropy (it was NaN)', () => {
    const before = tf.memory().numTensors;
    const c1 = tf.tensor([2, 0.7]);
    const c0 = tf.tensor([1.5, 3]);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
      const bb = new d.BetaBinomial(a, b, [2, 9]);
      try {
        return tf.sum(bb.entropy());
      } finally {
        bb.dispose();
      }
    })([c1, c0]);
    const got = grads.flatMap((t) => Array.from(t.dataSync()));
    tf.dispose([...grads, c1, c0]);
    expect(tf.memory().numTensors).toBe(before);
    const lbeta = (x: number, y: number): number => gammaln(x) + gammaln(y) - gammaln(x + y);
    const lchoose = (n: number, k: number): number =>
      gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);
    const h = (n: number, a: number, b: number): number => {
      let s = 0;
      for (let k = 0; k <= n; k++) {
        const l = lchoose(n, k) + lbeta(k + a, n - k + b) - lbeta(a, b);
        s -= Math.exp(l) * l;
      }
      return s;
    };
    const ref = finiteDiff(
      ([a0, a1, b0, b1]) => h(2, a0!, b0!) + h(9, a1!, b1!),
      [2, 0.7, 1.5, 3],
      1e-5,
    );
    expect(got).toBeAllclose(ref, { rtol: 2e-3, atol: 2e-4 });
  });
});
