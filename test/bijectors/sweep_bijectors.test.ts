/**
 * The robustness sweep over every exported bijector, on inputs of batch `[]`, `[3]`, `[2, 3]`
 * and the empty batch `[0]`: `forward` lands in the codomain with the shape of `forwardShape`,
 * `inverse` undoes it, `log|det J|` has the batch shape, is finite, equals minus the inverse's
 * and the log-determinant of the autodiff Jacobian (elementwise and square event maps); no call
 * leaves a tensor behind and empty inputs run without faults.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors } from '../../src/index.js';
import { logAbsDet } from '../fixtures/float64.js';

type Bij = bijectors.Bijector;

/** Values `lo + (hi - lo) * frac(0.5 + 0.618 i)` of `shape` (deterministic, varied). */
function vals(shape: number[], lo: number, hi: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: size }, (_, i) => lo + (hi - lo) * ((0.5 + 0.6180339887 * i) % 1));
  return tf.tensor(v, shape);
}

interface Row {
  name: string;
  make: () => Bij;
  /** An input in the domain: batch dims then the domain's event dims. */
  input: (batch: number[]) => tf.Tensor;
  /** The Jacobian is square per event (log-det comparable with autodiff). */
  square: boolean;
}

/** An input made by another bijector's forward (structured domains). */
function through(b: Bij, x: tf.Tensor): tf.Tensor {
  const y = b.forward(x);
  x.dispose();
  b.dispose();
  return y;
}

const ROWS: Row[] = [
  { name: 'Exp', make: () => new bijectors.Exp(), input: (b) => vals(b, -1, 1), square: true },
  {
    name: 'Sigmoid',
    make: () => new bijectors.Sigmoid(),
    input: (b) => vals(b, -2, 2),
    square: true,
  },
  {
    name: 'Softplus(1.5)',
    make: () => new bijectors.Softplus(1.5),
    input: (b) => vals(b, -2, 2),
    square: true,
  },
  {
    name: 'ScalarAffine(2, -1)',
    make: () => new bijectors.ScalarAffine(2, -1),
    input: (b) => vals(b, -2, 2),
    square: true,
  },
  {
    name: 'Affine(loc, scale)',
    make: () => new bijectors.Affine(0.5, -1.5),
    input: (b) => vals(b, -2, 2),
    square: true,
  },
  {
    name: 'Shift(0.5)',
    make: () => new bijectors.Shift(0.5),
    input: (b) => vals(b, -2, 2),
    square: true,
  },
  {
    name: 'Identity',
    make: () => new bijectors.Identity(),
    input: (b) => vals(b, -2, 2),
    square: true,
  },
  { name: 'Tanh', make: () => new bijectors.Tanh(), input: (b) => vals(b, -2, 2), square: true },
  {
    name: 'PowerTransform(2)',
    make: () => new bijectors.PowerTransform(2),
    input: (b) => vals(b, 0.3, 2),
    square: true,
  },
  {
    name: 'GumbelCDF(0.3, 1.2)',
    make: () => new bijectors.GumbelCDF(0.3, 1.2),
    input: (b) => vals(b, -2, 2),
    square: true,
  },
  {
    name: 'Invert(Exp)',
    make: () => new bijectors.Invert(new bijectors.Exp()),
    input: (b) => vals(b, 0.3, 3),
    square: true,
  },
  {
    name: 'Chain([Exp, ScalarAffine])',
    make: () => new bijectors.Chain([new bijectors.Exp(), new bijectors.ScalarAffine(2, 0.5)]),
    input: (b) => vals(b, -1, 1),
    square: true,
  },
  {
    name: 'IndependentTransform(Exp, 1)',
    make: () => new bijectors.IndependentTransform(new bijectors.Exp(), 1),
    input: (b) => vals([...b, 3], -1, 1),
    square: true,
  },
  {
    name: 'OrderedTransform',
    make: () => new bijectors.OrderedTransform(),
    input: (b) => vals([...b, 3], -1, 1),
    square: true,
  },
  {
    name: 'StickBreaking',
    make: () => new bijectors.StickBreaking(),
    input: (b) => vals([...b, 3], -1, 1),
    square: false,
  },
  {
    name: 'LowerCholeskyTransform',
    make: () => new bijectors.LowerCholeskyTransform(),
    input: (b) => vals([...b, 6], -1, 1),
    square: false,
  },
  {
    name: 'CorrCholeskyTransform',
    make: () => new bijectors.CorrCholeskyTransform(),
    input: (b) => vals([...b, 3], -1, 1),
    square: false,
  },
  {
    name: 'CholeskyOuter',
    make: () => new bijectors.CholeskyOuter(),
    input: (b) => through(new bijectors.LowerCholeskyTransform(), vals([...b, 6], -1, 1)),
    square: false,
  },
  {
    name: 'CorrCholeskyOuter',
    make: () => new bijectors.CorrCholeskyOuter(),
    input: (b) => through(new bijectors.CorrCholeskyTransform(), vals([...b, 3], -1, 1)),
    square: false,
  },
  {
    name: 'ZeroSumTransform(1)',
    make: () => new bijectors.ZeroSumTransform(1),
    input: (b) => vals([...b, 3], -1, 1),
    square: false,
  },
];

const BATCHES = [[], [3], [2, 3]];

describe.each(ROWS)('$name', (row) => {
  it.each(BATCHES)('round trip, codomain, log-det shapes and signs, batch %j', (...batch) => {
    const bj = row.make();
    const x = row.input(batch);
    const before = tf.memory().numTensors;
    const ev = bj.domainEventDim;
    const y = bj.forward(x);
    const back = bj.inverse(y);
    const ldj = bj.forwardLogDetJacobian(x);
    const ildj = bj.inverseLogDetJacobian(y);
    const inCodomain = bj.codomain.checkAll(y);
    try {
      expect(y.shape).toEqual(bj.forwardShape(x.shape));
      expect(inCodomain, 'forward lands in the codomain').toBe(true);
      expect(back.shape).toEqual(x.shape);
      expect(Array.from(back.dataSync())).toBeAllclose(Array.from(x.dataSync()), {
        rtol: 1e-4,
        atol: 1e-4,
      });
      expect(ldj.shape).toEqual(x.shape.slice(0, x.rank - ev));
      const l = Array.from(ldj.dataSync());
      expect(l.every((v) => Number.isFinite(v))).toBe(true);
      expect(Array.from(ildj.dataSync())).toBeAllclose(
        l.map((v) => -v),
        { rtol: 1e-4, atol: 1e-4 },
      );
    } finally {
      tf.dispose([y, back, ldj, ildj]);
    }
    expect(tf.memory().numTensors, 'tensors left').toBe(before);
    x.dispose();
    bj.dispose();
  });

  it.skipIf(!row.square)('log|det J| equals the autodiff Jacobian (batch [2])', () => {
    const bj = row.make();
    const x = row.input([2]);
    const ev = bj.domainEventDim;
    const k = ev === 0 ? 1 : (x.shape[1] as number);
    const ldj = Array.from(bj.forwardLogDetJacobian(x).dataSync());
    const xv = x.reshape([2, k]);
    // row j of J: d y_j / d x, per batch entry (outputs of one entry depend only on its inputs)
    const jac: number[][][] = [[...Array(k)].map(() => []), [...Array(k)].map(() => [])];
    for (let j = 0; j < k; j++) {
      const g = tf.grad((v: tf.Tensor) =>
        tf.sum(tf.slice(tf.reshape(bj.forward(tf.reshape(v, x.shape)), [2, k]), [0, j], [2, 1])),
      )(xv);
      const gv = g.arraySync() as number[][];
      g.dispose();
      for (let b = 0; b < 2; b++) jac[b]![j] = gv[b]!;
    }
    const ref = jac.map((m) => logAbsDet(m));
    expect(ldj).toBeAllclose(ref, { rtol: 1e-4, atol: 1e-4 });
    tf.dispose([x, xv]);
    bj.dispose();
  });

  it('empty inputs: forward, inverse and log-det of a [0, ...event] batch', () => {
    const bj = row.make();
    const x = row.input([0]);
    const before = tf.memory().numTensors;
    const y = bj.forward(x);
    const back = bj.inverse(y);
    const ldj = bj.forwardLogDetJacobian(x);
    expect(y.shape).toEqual(bj.forwardShape(x.shape));
    expect(back.shape).toEqual(x.shape);
    expect(ldj.shape).toEqual(x.shape.slice(0, x.rank - bj.domainEventDim));
    tf.dispose([y, back, ldj]);
    expect(tf.memory().numTensors).toBe(before);
    // the heap is sound afterwards
    const ok = row.input([2]);
    const y2 = bj.forward(ok);
    expect(Array.from(y2.dataSync()).every((v) => Number.isFinite(v))).toBe(true);
    tf.dispose([x, ok, y2]);
    bj.dispose();
  });
});
