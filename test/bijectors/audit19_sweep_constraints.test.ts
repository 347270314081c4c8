/**
 * Audit 19: every continuous constraint through `transformTo` / `bijectTo` (the ones audit 16
 * left out: `greaterThanEq`, `nonnegative`, tensor bounds, `circular`, `corrMatrix`, `zeroSum` of
 * 1 and 2 dims, `independent` of a vector constraint): the image of random reals satisfies
 * `constraint.check`, the map inverts, the log-det has the batch shape; and `check` on boundary,
 * NaN and infinite values as torch.distributions.constraints answers (`value % 1 == 0` for the
 * integer kinds: an infinite value is no integer).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions } from '../../src/index.js';

const d = distributions;
const c = distributions.constraints;

interface Row {
  name: string;
  make: () => { constraint: distributions.Constraint; dispose: () => void };
  /** Shape of the unconstrained input: batch dims then the bijector's domain event dims. */
  shape: number[];
  /** batch rank of the input */
  batchRank: number;
}

const fixed =
  (k: distributions.Constraint) =>
  (): { constraint: distributions.Constraint; dispose: () => void } => ({
    constraint: k,
    dispose: () => undefined,
  });

const ROWS: Row[] = [
  { name: 'greaterThanEq(-1)', make: fixed(c.greaterThanEq(-1)), shape: [2, 3], batchRank: 2 },
  { name: 'nonnegative', make: fixed(c.nonnegative), shape: [4], batchRank: 1 },
  {
    name: 'greaterThan(tensor [0, 2, -3])',
    make: () => {
      const lo = tf.tensor1d([0, 2, -3]);
      return { constraint: c.greaterThan(lo), dispose: () => lo.dispose() };
    },
    shape: [2, 3],
    batchRank: 2,
  },
  {
    name: 'interval(tensor [-1, 0], tensor [1, 10])',
    make: () => {
      const lo = tf.tensor1d([-1, 0]);
      const hi = tf.tensor1d([1, 10]);
      return { constraint: c.interval(lo, hi), dispose: () => tf.dispose([lo, hi]) };
    },
    shape: [3, 2],
    batchRank: 2,
  },
  { name: 'circular', make: fixed(c.circular), shape: [5], batchRank: 1 },
  { name: 'corrMatrix (D = 3)', make: fixed(c.corrMatrix), shape: [2, 3], batchRank: 1 },
  { name: 'zeroSum(1)', make: fixed(c.zeroSum(1)), shape: [2, 4], batchRank: 1 },
  { name: 'zeroSum(2)', make: fixed(c.zeroSum(2)), shape: [2, 3, 2], batchRank: 1 },
  {
    name: 'independent(simplex, 1)',
    make: fixed(c.independent(c.simplex, 1)),
    shape: [2, 3, 2],
    batchRank: 1,
  },
  {
    name: 'independent(interval(0, 2), 2)',
    make: fixed(c.independent(c.interval(0, 2), 2)),
    shape: [2, 2, 3],
    batchRank: 1,
  },
];

describe.each(ROWS)('transformTo($name)', (row) => {
  it('maps random reals into the constraint, inverts, log-det of the batch shape, no leak', () => {
    const { constraint, dispose } = row.make();
    const bij = d.transformTo(constraint);
    for (const amp of [1, 4]) {
      const x = tf.tidy(() => tf.mul(tf.randomNormal(row.shape, 0, 1, 'float32', 19), amp));
      const before = tf.memory().numTensors;
      const { y, logDet } = bij.forwardAndLogDet(x);
      const back = bij.inverse(y);
      expect(constraint.checkAll(y), `${row.name} at amplitude ${amp}`).toBe(true);
      expect(logDet.shape).toEqual(row.shape.slice(0, row.batchRank));
      expect(Array.from(logDet.dataSync()).every(Number.isFinite)).toBe(true);
      if (amp === 1) {
        expect(Array.from(back.dataSync())).toBeAllclose(Array.from(x.dataSync()), {
          rtol: 2e-3,
          atol: 2e-3,
        });
      }
      tf.dispose([y, logDet, back]);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    }
    bij.dispose();
    dispose();
  });
});

describe('check on boundary, NaN and infinite values (torch.distributions.constraints)', () => {
  const check = (
    k: distributions.Constraint,
    v: number[] | number[][] | number[][][],
  ): number[] => {
    const t = tf.tensor(v);
    const ok = k.check(t);
    const out = Array.from(ok.dataSync());
    tf.dispose([t, ok]);
    return out;
  };
  const I = Infinity;

  it('real, the half-lines and intervals', () => {
    expect(check(c.real, [0, I, -I, NaN])).toEqual([1, 1, 1, 0]);
    expect(check(c.positive, [0, I, -1, NaN])).toEqual([0, 1, 0, 0]);
    expect(check(c.nonnegative, [0, I, -1e-30, NaN])).toEqual([1, 1, 0, 0]);
    expect(check(c.greaterThanEq(2), [2, 1.999, NaN])).toEqual([1, 0, 0]);
    expect(check(c.lessThan(3), [3, 2.999, -I, NaN])).toEqual([0, 1, 1, 0]);
    expect(check(c.interval(-1, 2), [-1, 2, -I, NaN])).toEqual([1, 1, 0, 0]);
  });

  it('the integer kinds: x % 1 == 0, so ±Infinity and NaN are no integers', () => {
    expect(check(c.integer, [-3, 0, 2.5, I, -I, NaN])).toEqual([1, 1, 0, 0, 0, 0]);
    expect(check(c.nonnegativeInteger, [0, 7, -1, I, NaN])).toEqual([1, 1, 0, 0, 0]);
    expect(check(c.integerInterval(0, 3), [0, 3, 4, 1.5, NaN])).toEqual([1, 1, 0, 0, 0]);
    expect(check(c.boolean, [0, 1, 0.5, NaN])).toEqual([1, 1, 0, 0]);
  });

  it('vector constraints reduce their event dim; NaN fails', () => {
    expect(
      check(c.simplex, [
        [0.5, 0.5],
        [NaN, 1],
      ]),
    ).toEqual([1, 0]);
    expect(
      check(c.ordered, [
        [1, 2, 3],
        [1, 1, 2],
        [1, NaN, 3],
      ]),
    ).toEqual([1, 0, 0]);
    expect(
      check(c.oneHot, [
        [0, 1, 0],
        [1, 1, 0],
        [0, 0, 0],
      ]),
    ).toEqual([1, 0, 0]);
    expect(
      check(c.zeroSum(1), [
        [1, -1],
        [1, 1],
        [NaN, 0],
      ]),
    ).toEqual([1, 0, 0]);
    expect(
      check(c.independent(c.positive, 1), [
        [1, 2],
        [1, 0],
      ]),
    ).toEqual([1, 0]);
  });

  it('matrix constraints: a NaN entry fails, below or on the diagonal', () => {
    expect(
      check(c.lowerCholesky, [
        [
          [1, 0],
          [NaN, 1],
        ],
        [
          [NaN, 0],
          [0, 1],
        ],
        [
          [1, 0],
          [-3, 2],
        ],
      ]),
    ).toEqual([0, 0, 1]);
    expect(
      check(c.positiveDefinite, [
        [
          [2, NaN],
          [NaN, 2],
        ],
        [
          [2, 1],
          [1, 2],
        ],
      ]),
    ).toEqual([0, 1]);
  });
});
