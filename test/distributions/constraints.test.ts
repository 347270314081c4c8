import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions, ArgumentError } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const { constraints: C, bijectTo, transformTo } = distributions;
type Constraint = distributions.Constraint;

/** max |t| as a number; disposes `t`. */
function maxAbs(t: tf.Tensor): number {
  const v = t.dataSync();
  t.dispose();
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  return m;
}

/** Each continuous constraint with a constrained-space shape to test with (batch [4] + event). */
const continuous: Array<{ c: () => Constraint; shape: number[] }> = [
  { c: () => C.real, shape: [4, 3] },
  { c: () => C.positive, shape: [4, 3] },
  { c: () => C.nonnegative, shape: [4, 3] },
  { c: () => C.unitInterval, shape: [4, 3] },
  { c: () => C.interval(-2, 5), shape: [4, 3] },
  { c: () => C.greaterThan(1.5), shape: [4, 3] },
  { c: () => C.greaterThanEq(-1), shape: [4, 3] },
  { c: () => C.lessThan(2), shape: [4, 3] },
  { c: () => C.simplex, shape: [4, 5] },
  { c: () => C.ordered, shape: [4, 5] },
  { c: () => C.lowerCholesky, shape: [4, 3, 3] },
  { c: () => C.corrCholesky, shape: [4, 4, 4] },
  { c: () => C.positiveDefinite, shape: [4, 3, 3] },
  { c: () => C.realVector, shape: [4, 3] },
  { c: () => C.independent(C.positive, 2), shape: [4, 2, 3] },
  { c: () => C.independent(C.simplex, 1), shape: [4, 2, 3] },
];

describe('bijectTo maps random reals into every continuous support', () => {
  for (const { c, shape } of continuous) {
    const con = c();
    it(`${con.name} (event dim ${con.eventDim})`, () => {
      const b = bijectTo(con);
      expect(b.codomainEventDim).toBe(con.eventDim);
      const uShape = b.inverseShape(shape);
      expect(b.forwardShape(uShape)).toEqual(shape);
      const u = tf.randomNormal(uShape, 0, 1.5, 'float32', 7);
      expectNoLeak(() => {
        const { y, logDet } = b.forwardAndLogDet(u);
        expect(y.shape).toEqual(shape);
        expect(logDet.shape).toEqual(shape.slice(0, shape.length - con.eventDim));
        expect(con.checkAll(y)).toBe(true);
        expect(b.codomain.checkAll(y)).toBe(true);
        expect(Array.from(logDet.dataSync()).every(Number.isFinite)).toBe(true);
        // round trip
        const back = b.inverse(y);
        const err = maxAbs(tf.sub(back, u));
        expect(err).toBeLessThan(2e-3);
        // inverse log-det = -forward log-det
        const ild = b.inverseLogDetJacobian(y);
        const e2 = maxAbs(tf.add(ild, logDet));
        expect(e2).toBeLessThan(2e-3);
        tf.dispose([y, logDet, back, ild]);
      });
      u.dispose();
      b.dispose();
    });
  }

  it('owns what it makes: tensor bounds stay the caller, the rest is freed by dispose', () => {
    const lo = tf.tensor1d([0, -1]);
    const hi = tf.tensor1d([1, 3]);
    const u = tf.tensor2d([
      [-30, 30],
      [0, 0],
    ]);
    expectNoLeak(() => {
      const b = bijectTo(C.interval(lo, hi));
      const y = b.forward(u);
      const v = Array.from(y.dataSync());
      expect(v[0]).toBeCloseTo(0, 5);
      expect(v[1]).toBeCloseTo(3, 5);
      expect(v[2]).toBeCloseTo(0.5, 5);
      expect(v[3]).toBeCloseTo(1, 5);
      y.dispose();
      b.dispose();
    });
    expect(lo.isDisposed || hi.isDisposed).toBe(false);
    tf.dispose([lo, hi, u]);
    expectNoLeak(() => {
      const b = bijectTo(C.positiveDefinite);
      b.dispose();
      const g = bijectTo(C.greaterThan(2));
      g.dispose();
    });
  });

  it('transformTo is the same registry; discrete constraints are refused by name', () => {
    const b = transformTo(C.positive);
    expect(b.name).toBe('Exp');
    b.dispose();
    for (const c of [C.integer, C.nonnegativeInteger, C.boolean, C.integerInterval(0, 3)]) {
      expect(() => bijectTo(c)).toThrow(ArgumentError);
      expect(() => bijectTo(c)).toThrow(c.name);
    }
    expect(() => bijectTo(C.independent(C.boolean, 1))).toThrow(/boolean/);
  });
});

describe('constraints check membership over their event dims', () => {
  const cases: Array<[Constraint, number[][] | number[], boolean[]]> = [
    [C.positive, [1, 0, -1], [true, false, false]],
    [C.nonnegative, [1, 0, -1], [true, true, false]],
    [C.unitInterval, [0, 1, 1.1], [true, true, false]],
    [C.interval(-1, 1), [-1, 0.3, -2], [true, true, false]],
    [C.greaterThan(2), [2, 2.1, 3], [false, true, true]],
    [C.lessThan(2), [2, 1.9, -3], [false, true, true]],
    [C.integer, [1, 1.5, -2], [true, false, true]],
    [C.nonnegativeInteger, [0, 3, -1], [true, true, false]],
    [C.integerInterval(0, 2), [0, 2, 3], [true, true, false]],
    [C.boolean, [0, 1, 0.5], [true, true, false]],
    [C.real, [0, NaN, 5], [true, false, true]],
    [
      C.simplex,
      [
        [0.2, 0.8],
        [0.5, 0.6],
        [-0.1, 1.1],
      ],
      [true, false, false],
    ],
    [
      C.ordered,
      [
        [0, 1],
        [1, 1],
        [2, 1],
      ],
      [true, false, false],
    ],
    [
      C.realVector,
      [
        [0, 1],
        [NaN, 1],
      ],
      [true, false],
    ],
  ];
  for (const [c, x, want] of cases) {
    it(c.name, () => {
      const t = tf.tensor(x);
      expectNoLeak(() => {
        const ok = c.check(t);
        expect(ok.dtype).toBe('bool');
        expect(Array.from(ok.dataSync()).map(Boolean)).toEqual(want);
        return ok;
      });
      t.dispose();
    });
  }

  it('matrix constraints', () => {
    const m = tf.tensor3d([
      [
        [2, 0],
        [1, 1],
      ],
      [
        [1, 1],
        [0, 1],
      ],
      [
        [1, 0],
        [0.6, 0.8],
      ],
    ]);
    const pd = tf.tensor3d([
      [
        [2, 1],
        [1, 2],
      ],
      [
        [1, 2],
        [2, 1],
      ],
      [
        [1, 0.5],
        [0.4, 1],
      ],
    ]);
    const read = (t: tf.Tensor): number[] => {
      const v = Array.from(t.dataSync());
      t.dispose();
      return v;
    };
    expectNoLeak(() => {
      expect(read(C.lowerCholesky.check(m))).toEqual([1, 0, 1]);
      expect(read(C.corrCholesky.check(m))).toEqual([0, 0, 1]);
      expect(read(C.positiveDefinite.check(pd))).toEqual([1, 0, 0]);
      expect(read(C.independent(C.positive, 2).check(pd))).toEqual([1, 1, 1]);
    });
    tf.dispose([m, pd]);
  });

  it('every distribution exposes its support', () => {
    const d = distributions;
    const cases: Array<[distributions.Distribution, string]> = [
      [new d.Normal(0, 1), 'real'],
      [new d.Gamma(2, 1), 'positive'],
      [new d.Beta(2, 2), 'unitInterval'],
      [new d.Uniform(-1, 2), 'interval(-1, 2)'],
      [new d.Dirichlet([1, 2, 3]), 'simplex'],
      [new d.Categorical({ probs: [0.5, 0.5] }), 'integerInterval(0, 1)'],
      [new d.Poisson(3), 'nonnegativeInteger'],
      [new d.Bernoulli({ probs: 0.3 }), 'boolean'],
      [new d.LogNormal(0, 1), 'positive'],
      [new d.Independent(new d.Normal([0, 0], 1), 1), 'independent(real, 1)'],
      [new d.MultivariateNormalDiag([0, 0], [1, 1]), 'independent(real, 1)'],
    ];
    for (const [dist, name] of cases) {
      expect(dist.support.name).toBe(name);
      dist.dispose();
    }
  });

  it('rejects bad arguments by name', () => {
    expect(() => C.interval(2, 1)).toThrow(/upper/);
    expect(() => C.independent(C.real, -1)).toThrow(/reinterpretedBatchNdims/);
    expect(() => C.simplex.check(tf.scalar(1))).toThrow(ArgumentError);
  });
});
