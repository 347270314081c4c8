/**
 * Audit 18: `Binomial.entropy` for a large `totalCount`. It enumerated `{0, ..., n}` (torch's
 * method) as one tensor, so `n = 1e8` asked the wasm backend for 400 MB and crashed it ("memory
 * access out of bounds", the process unusable after). The enumeration now runs over a window of
 * `12 sd + 40` around each element's mean. Reference: float64 enumeration of `-sum p log p` with
 * @stdlib's `gammaln` over `mean +- 20 sd` (all of the support where that is shorter).
 */
import * as tf from '@tensorflow/tfjs';
import gammaln from '@stdlib/math-base-special-gammaln';
import { describe, expect, it } from 'vitest';
import { distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

function entropyRef(n: number, p: number): number {
  const sd = Math.sqrt(n * p * (1 - p));
  const lo = Math.max(0, Math.floor(n * p - 20 * sd - 50));
  const hi = Math.min(n, Math.ceil(n * p + 20 * sd + 50));
  let h = 0;
  for (let k = lo; k <= hi; k++) {
    const lp =
      gammaln(n + 1) -
      gammaln(k + 1) -
      gammaln(n - k + 1) +
      k * Math.log(p) +
      (n - k) * Math.log1p(-p);
    h -= Math.exp(lp) * lp;
  }
  return h;
}

describe('audit18 Binomial.entropy with a large totalCount', () => {
  it('matches float64 enumeration for n up to 1e8 in one batch, without leaking', () => {
    const ns = [1e8, 10, 1e8, 1000, 5e6, 0];
    const ps = [0.5, 0.3, 1e-7, 0.999, 0.01, 0.4];
    const b = new d.Binomial(tf.tensor(ns), tf.tensor(ps));
    const h = expectNoLeak(() => b.entropy());
    b.dispose();
    ns.forEach((n, i) => {
      const want = entropyRef(n, Math.fround(ps[i]!));
      expect(Math.abs(h[i]! - want), `n = ${n}, p = ${ps[i]}`).toBeLessThan(
        1e-5 * (1 + Math.abs(want)),
      );
    });
  });
});
