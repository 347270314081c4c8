/**
 * Audit of issue 14 (session 16): `bijectTo(c)` / `transformTo(c)` as Pyro's `biject_to` — random
 * reals (also large ones, |x| up to 30) land inside the support for every constraint, the map
 * inverts, and the log-determinant is finite; discrete constraints are refused with an error
 * naming the constraint.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const d = distributions;
const c = d.constraints;

interface Row {
  name: string;
  constraint: distributions.Constraint;
  /** Shape of the unconstrained input. */
  shape: number[];
  /**
   * Largest amplitude of the inputs (default 8): `L L^T` of a factor with diagonal `e^{8z}` has a
   * condition number far beyond float32's 1e7, and its rounding is no longer positive definite.
   */
  maxAmp?: number;
}

const ROWS: Row[] = [
  { name: 'real', constraint: c.real, shape: [5] },
  { name: 'positive', constraint: c.positive, shape: [5] },
  { name: 'unitInterval', constraint: c.unitInterval, shape: [5] },
  { name: 'interval(-2, 3)', constraint: c.interval(-2, 3), shape: [5] },
  { name: 'greaterThan(1.5)', constraint: c.greaterThan(1.5), shape: [5] },
  { name: 'lessThan(-1)', constraint: c.lessThan(-1), shape: [5] },
  { name: 'simplex', constraint: c.simplex, shape: [2, 3] },
  { name: 'ordered', constraint: c.ordered, shape: [2, 4] },
  { name: 'lowerCholesky', constraint: c.lowerCholesky, shape: [2, 6] },
  { name: 'corrCholesky', constraint: c.corrCholesky, shape: [2, 3] },
  { name: 'positiveDefinite', constraint: c.positiveDefinite, shape: [6], maxAmp: 2 },
  { name: 'independent(positive, 1)', constraint: c.independent(c.positive, 1), shape: [2, 3] },
];

describe('bijectTo maps the reals into every support', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const bij = d.bijectTo(row.constraint);
      for (const amp of [1, row.maxAmp ?? 8]) {
        const x = tf.tidy(() => tf.mul(tf.randomNormal(row.shape, 0, 1, 'float32', 3), amp));
        const y = bij.forward(x);
        const before = tf.memory().numTensors;
        expect(row.constraint.checkAll(y), `${row.name} at amplitude ${amp}`).toBe(true);
        expect(tf.memory().numTensors).toBe(before);
        const ld = expectNoLeak(() => bij.forwardLogDetJacobian(x));
        ld.forEach((v) => expect(Number.isFinite(v), `${row.name} log-det`).toBe(true));
        if (amp === 1) {
          const back = expectNoLeak(() => bij.inverse(y));
          const xs = x.dataSync();
          back.forEach((v, i) => expect(Math.abs(v - (xs[i] as number))).toBeLessThan(2e-3));
        }
        x.dispose();
        y.dispose();
      }
      bij.dispose();
    });
  }
  it('a discrete support (nonnegativeInteger, boolean) is refused naming the constraint', () => {
    for (const k of [c.nonnegativeInteger, c.boolean]) {
      expect(() => d.bijectTo(k)).toThrow(new RegExp(k.name));
    }
  });
});
