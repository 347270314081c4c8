/**
 * Audit 18: Kumaraswamy draws and scores at the ends of `(0, 1)` for concentrations below 1,
 * where the density is infinite at the end. Draws were clipped to `[0, 1 - 2^-24]`: a draw of
 * exactly 0 (`x^a` underflows for small `a`) scored `+Infinity`, and at `x = 1 - 2^-24`
 * `log1p(-x^a)` saw `x^a` round to 1, so `logProb` was `+Infinity` and the survival 0 there.
 * Draws must stay in `[tiny, 1 - 2^-24]` (NumPyro's clip), and the log-density / survival at the
 * largest float32 below 1 must match the float64 closed forms
 * `log(ab) + (a-1) log x + (b-1) log(1 - x^a)` and `(1 - x^a)^b`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const TOP = 1 - 2 ** -24;
/** Float64 `log(1 - x^a)` (accurate near x = 1). */
const log1mPow = (x: number, a: number): number => Math.log(-Math.expm1(a * Math.log(x)));
const logPdf = (x: number, a: number, b: number): number =>
  Math.log(a * b) + (a - 1) * Math.log(x) + (b - 1) * log1mPow(x, a);

const CONC: [number, number][] = [
  [0.5, 0.5],
  [0.05, 1],
  [0.1, 0.1],
  [2, 0.3],
];

describe('audit18 Kumaraswamy at the ends of the unit interval', () => {
  it('draws stay strictly inside (0, 1) and every draw has a finite log-density', () => {
    for (const [a, b] of CONC) {
      const k = new d.Kumaraswamy(a, b);
      const xs = expectNoLeak(() => k.sample([20000], 13));
      const x = tf.tensor(xs);
      const lp = expectNoLeak(() => k.logProb(x));
      x.dispose();
      k.dispose();
      expect(Math.min(...xs), `min (${a}, ${b})`).toBeGreaterThan(0);
      expect(Math.max(...xs), `max (${a}, ${b})`).toBeLessThan(1);
      expect(lp.filter((v) => !Number.isFinite(v)).length, `(${a}, ${b})`).toBe(0);
    }
  });

  it('logProb and survival at 1 - 2^-24 (and at small x) match the float64 closed forms', () => {
    const xs = [1e-30, 1e-6, 0.3, 0.999, TOP];
    for (const [a, b] of CONC) {
      const k = new d.Kumaraswamy(a, b);
      const x = tf.tensor(xs);
      const lp = expectNoLeak(() => k.logProb(x));
      const sf = expectNoLeak(() => k.survival(x));
      x.dispose();
      k.dispose();
      xs.forEach((v, i) => {
        const want = logPdf(Math.fround(v), a, b);
        expect(Math.abs(lp[i]! - want), `logProb(${v}) (${a}, ${b})`).toBeLessThan(
          1e-4 * (1 + Math.abs(want)),
        );
        const wantSf = Math.exp(b * log1mPow(Math.fround(v), a));
        expect(Math.abs(sf[i]! / wantSf - 1), `survival(${v}) (${a}, ${b})`).toBeLessThan(1e-3);
      });
    }
  });
});
