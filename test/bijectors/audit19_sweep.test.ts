/**
 * Audit 19: a table-driven sweep over every exported bijector as a TFP / Distrax /
 * torch.distributions.transforms user calls them, with tensor (batched) parameters and the
 * vector/matrix bijectors and compositions the earlier sweeps left out (ZeroSum over 2 dims,
 * Haar, DCT with smoothing, Invert/Independent/Chain of vector parts). For every row:
 *
 * - `domain` / `codomain` are constraints of `domainEventDim` / `codomainEventDim` event dims and
 *   hold the inputs and outputs; `inverse(forward(x)) = x` on a batch and near the domain's edges;
 * - `forwardLogDetJacobian` equals the float64 `log|det|` of the Jacobian assembled from
 *   autodiff (per-output gradients), on the free coordinates of non-square maps (StickBreaking's
 *   first K-1 outputs, the triangular entries of Cholesky factors) or as the Gram volume
 *   `½ log det(JᵀJ)` of an isometric embedding (ZeroSum);
 * - `inverseLogDetJacobian(y)` equals the autodiff `log|det|` of the inverse map (square maps) and
 *   `-forwardLogDetJacobian(inverse(y))`;
 * - nothing leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors } from '../../src/index.js';
import { logAbsDet } from '../fixtures/float64.js';

type Bij = bijectors.Bijector;
const b = bijectors;

/** Values `lo + (hi - lo) * frac(0.5 + 0.618 i)` of `shape` (deterministic, varied). */
function vals(shape: number[], lo: number, hi: number): tf.Tensor {
  const size = shape.reduce((a, c) => a * c, 1);
  const v = Array.from({ length: size }, (_, i) => lo + (hi - lo) * ((0.5 + 0.6180339887 * i) % 1));
  return tf.tensor(v, shape);
}

/** `b.forward(x)`, disposing `x` and `b` (an input made in a structured domain). */
function through(bj: Bij, x: tf.Tensor): tf.Tensor {
  const y = bj.forward(x);
  x.dispose();
  bj.dispose();
  return y;
}

/** The strictly lower (`strict`) or lower triangle of `[..., n, n]` as `[..., m]`, row-major. */
function trilEntries(m: tf.Tensor, strict: boolean): tf.Tensor {
  const n = m.shape[m.rank - 1] as number;
  const idx: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j <= (strict ? i - 1 : i); j++) idx.push(i * n + j);
  const flat = tf.reshape(m, [...m.shape.slice(0, -2), n * n]);
  return tf.gather(flat, idx, flat.rank - 1);
}

/** The first `k - 1` entries of the last axis. */
function dropLast(y: tf.Tensor): tf.Tensor {
  const k = y.shape[y.rank - 1] as number;
  return tf.slice(
    y,
    y.shape.map(() => 0),
    [...y.shape.slice(0, -1), k - 1],
  );
}

type Reference =
  /** square Jacobian of the flattened event */
  | { kind: 'square' }
  /** square Jacobian of `proj(forward(x))` (the output's free coordinates) */
  | { kind: 'proj'; proj: (y: tf.Tensor) => tf.Tensor }
  /** the map embeds isometrically: `½ log det(JᵀJ)` */
  | { kind: 'gram' }
  /** no autodiff reference (a domain that is not an open set of the flattened input) */
  | { kind: 'none' };

interface Row {
  name: string;
  make: () => Bij;
  /** A point of the domain: batch dims then the domain's event dims. */
  input: (batch: number[]) => tf.Tensor;
  /** Points near the domain's edges (batch first), whose round trip must hold. */
  edges?: () => tf.Tensor;
  /** Relative/absolute tolerance of the edge round trip (default 1e-4). */
  edgeTol?: number;
  ref: Reference;
}

const ROWS: Row[] = [
  {
    name: 'Exp',
    make: () => new b.Exp(),
    input: (s) => vals(s, -1, 1),
    edges: () => tf.tensor([-80, -30, 30, 80]),
    ref: { kind: 'square' },
  },
  {
    name: 'Sigmoid',
    make: () => new b.Sigmoid(),
    input: (s) => vals(s, -3, 3),
    edges: () => tf.tensor([-80, -30, -12, 12, 14]),
    edgeTol: 2e-3,
    ref: { kind: 'square' },
  },
  {
    name: 'Softplus([0.5, 2, 3]) (batched sharpness)',
    make: () => new b.Softplus([0.5, 2, 3]),
    input: (s) => vals([...s, 3], -2, 2),
    edges: () =>
      tf.tensor([
        [-30, -20, -10],
        [20, 30, 25],
      ]),
    edgeTol: 1e-3,
    ref: { kind: 'square' },
  },
  {
    name: 'ScalarAffine([2, -0.5, 3], [[1], [-2]]) (batched)',
    make: () => new b.ScalarAffine([2, -0.5, 3], [[1], [-2]]),
    input: (s) => vals([...s, 2, 3], -2, 2),
    ref: { kind: 'square' },
  },
  {
    name: 'Affine(loc [3], scale [3], eventDim 1)',
    make: () => new b.Affine([0.5, -1, 2], [1.5, -0.25, 4], { eventDim: 1 }),
    input: (s) => vals([...s, 3], -2, 2),
    ref: { kind: 'square' },
  },
  {
    name: 'Shift([[1, -2]])',
    make: () => new b.Shift([[1, -2]]),
    input: (s) => vals([...s, 1, 2], -2, 2),
    ref: { kind: 'square' },
  },
  {
    name: 'Tanh',
    make: () => new b.Tanh(),
    input: (s) => vals(s, -2, 2),
    edges: () => tf.tensor([-7, -4, 4, 7]),
    edgeTol: 2e-2,
    ref: { kind: 'square' },
  },
  {
    name: 'PowerTransform([0, 0.5, 2]) (batched power)',
    make: () => new b.PowerTransform([0, 0.5, 2]),
    input: (s) => vals([...s, 3], -0.45, 2),
    edges: () => tf.tensor([[-0.49, -1.99, -0.499]]),
    edgeTol: 1e-3,
    ref: { kind: 'square' },
  },
  {
    name: 'GumbelCDF([0, 1], [[1], [2.5]]) (batched)',
    make: () => new b.GumbelCDF([0, 1], [[1], [2.5]]),
    input: (s) => vals([...s, 2, 2], -1.5, 3),
    ref: { kind: 'square' },
  },
  {
    name: 'OrderedTransform (K = 4)',
    make: () => new b.OrderedTransform(),
    input: (s) => vals([...s, 4], -2, 2),
    edges: () =>
      tf.tensor([
        [0, -15, -12, -10],
        [0, 10, 12, 14],
      ]),
    ref: { kind: 'square' },
  },
  {
    name: 'StickBreaking (K = 5)',
    make: () => new b.StickBreaking(),
    input: (s) => vals([...s, 4], -2, 2),
    edges: () =>
      tf.tensor([
        [-12, 3, -8, 6],
        [6, -10, 0, -6],
      ]),
    edgeTol: 1e-3,
    ref: { kind: 'proj', proj: dropLast },
  },
  {
    name: 'LowerCholeskyTransform (D = 3)',
    make: () => new b.LowerCholeskyTransform(),
    input: (s) => vals([...s, 6], -1.5, 1.5),
    ref: {
      kind: 'proj',
      // the input order: the strictly lower entries, then the log-diagonal
      proj: (y) => {
        const n = y.shape[y.rank - 1] as number;
        const eye = tf.eye(n);
        return tf.concat([trilEntries(y, true), tf.sum(tf.mul(y, eye), -1)], -1);
      },
    },
  },
  {
    name: 'CorrCholeskyTransform (D = 4)',
    make: () => new b.CorrCholeskyTransform(),
    input: (s) => vals([...s, 6], -1.5, 1.5),
    ref: { kind: 'proj', proj: (y) => trilEntries(y, true) },
  },
  {
    name: 'Chain([CholeskyOuter, LowerCholeskyTransform]) (D = 3)',
    make: () => {
      const lc = new b.LowerCholeskyTransform();
      const outer = new b.CholeskyOuter();
      const c = new b.Chain([outer, lc]);
      c.adopt(lc);
      c.adopt(outer);
      return c;
    },
    input: (s) => vals([...s, 6], -1, 1),
    ref: { kind: 'proj', proj: (y) => trilEntries(y, false) },
  },
  {
    name: 'Chain([CorrCholeskyOuter, CorrCholeskyTransform]) (D = 3)',
    make: () => {
      const cc = new b.CorrCholeskyTransform();
      const outer = new b.CorrCholeskyOuter();
      const c = new b.Chain([outer, cc]);
      c.adopt(cc);
      c.adopt(outer);
      return c;
    },
    input: (s) => vals([...s, 3], -1.2, 1.2),
    ref: { kind: 'proj', proj: (y) => trilEntries(y, true) },
  },
  {
    name: 'CholeskyOuter (D = 3)',
    make: () => new b.CholeskyOuter(),
    input: (s) => through(new b.LowerCholeskyTransform(), vals([...s, 6], -1, 1)),
    ref: { kind: 'none' },
  },
  {
    name: 'ZeroSumTransform(1) (K = 4)',
    make: () => new b.ZeroSumTransform(1),
    input: (s) => vals([...s, 3], -2, 2),
    ref: { kind: 'gram' },
  },
  {
    name: 'ZeroSumTransform(2) ([2, 3] -> [3, 4])',
    make: () => new b.ZeroSumTransform(2),
    input: (s) => vals([...s, 2, 3], -2, 2),
    ref: { kind: 'gram' },
  },
  {
    name: 'HaarTransform(-1) (N = 5)',
    make: () => new b.HaarTransform(-1),
    input: (s) => vals([...s, 5], -2, 2),
    ref: { kind: 'square' },
  },
  {
    name: 'HaarTransform(-2, flip) ([4, 2])',
    make: () => new b.HaarTransform(-2, true),
    input: (s) => vals([...s, 4, 2], -2, 2),
    ref: { kind: 'square' },
  },
  {
    name: 'DiscreteCosineTransform(-1, smooth 1) (N = 4)',
    make: () => new b.DiscreteCosineTransform(-1, 1),
    input: (s) => vals([...s, 4], -2, 2),
    ref: { kind: 'square' },
  },
  {
    name: 'DiscreteCosineTransform(-2, smooth -0.5) ([3, 2])',
    make: () => new b.DiscreteCosineTransform(-2, -0.5),
    input: (s) => vals([...s, 3, 2], -2, 2),
    ref: { kind: 'square' },
  },
  {
    name: 'IndependentTransform(Sigmoid, 2)',
    make: () => new b.IndependentTransform(new b.Sigmoid(), 2),
    input: (s) => vals([...s, 2, 3], -3, 3),
    ref: { kind: 'square' },
  },
  {
    name: 'IndependentTransform(StickBreaking, 1)',
    make: () => new b.IndependentTransform(new b.StickBreaking(), 1),
    input: (s) => vals([...s, 2, 3], -2, 2),
    ref: { kind: 'proj', proj: (y) => tf.reshape(dropLast(y), [...y.shape.slice(0, -2), 6]) },
  },
  {
    name: 'Invert(OrderedTransform)',
    make: () => new b.Invert(new b.OrderedTransform()),
    input: (s) => through(new b.OrderedTransform(), vals([...s, 4], -1, 1)),
    ref: { kind: 'square' },
  },
  {
    name: 'Invert(Softplus(2))',
    make: () => new b.Invert(new b.Softplus(2)),
    input: (s) => vals(s, 0.05, 3),
    edges: () => tf.tensor([1e-20, 1e-6, 40]),
    ref: { kind: 'square' },
  },
  {
    name: 'Chain([OrderedTransform, Sigmoid]) (elementwise part summed over the event)',
    make: () => new b.Chain([new b.OrderedTransform(), new b.Sigmoid()]),
    input: (s) => vals([...s, 3], -2, 2),
    ref: { kind: 'square' },
  },
  {
    name: 'Chain([StickBreaking, Affine(eventDim 1), Exp]) (mixed event dims)',
    make: () =>
      new b.Chain([
        new b.StickBreaking(),
        new b.Affine([0.2, -0.3, 0.1], [1.5, 0.5, 2], { eventDim: 1 }),
        new b.Exp(),
      ]),
    input: (s) => vals([...s, 3], -1, 1),
    ref: { kind: 'proj', proj: dropLast },
  },
  {
    name: 'Chain([Invert(Exp), Softplus, ScalarAffine(-1, 0.5)])',
    make: () =>
      new b.Chain([new b.Invert(new b.Exp()), new b.Softplus(), new b.ScalarAffine(-1, 0.5)]),
    input: (s) => vals(s, -2, 2),
    ref: { kind: 'square' },
  },
];

const BATCHES: number[][] = [[], [3], [2, 3]];

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, c) => a * c, 1);
}

/**
 * The Jacobian of `f` (a map of one `[2, ...inEvent]` batch to `[2, ...outEvent]`, entries
 * independent) as two float64 matrices `[kOut][kIn]`, row `j` the gradient of output `j`.
 */
function jacobians(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): number[][][] {
  const kIn = sizeOf(x.shape.slice(1));
  const probe = tf.tidy(() => f(x));
  const outShape = probe.shape;
  probe.dispose();
  const kOut = sizeOf(outShape.slice(1));
  const jac: number[][][] = [[], []];
  for (let j = 0; j < kOut; j++) {
    const g = tf.tidy(() =>
      tf.grad((v: tf.Tensor) =>
        tf.sum(tf.slice(tf.reshape(f(tf.reshape(v, x.shape)), [2, kOut]), [0, j], [2, 1])),
      )(tf.reshape(x, [2, kIn])),
    );
    const gv = g.arraySync() as number[][];
    g.dispose();
    for (let e = 0; e < 2; e++) jac[e]![j] = gv[e]!;
  }
  return jac;
}

/** `½ log det(JᵀJ)` in float64. */
function gramLogVolume(j: number[][]): number {
  const k = (j[0] as number[]).length;
  const g = Array.from({ length: k }, (_, r) =>
    Array.from({ length: k }, (_, c) => j.reduce((s, row) => s + row[r]! * row[c]!, 0)),
  );
  return 0.5 * logAbsDet(g);
}

const num = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/**
 * The log-det of each of 2 batch entries, summed over the dims a scalar or vector bijector
 * treats as batch (the Jacobian of one `[2, ...]` entry is block diagonal: its log|det| is the
 * sum), disposing `t`.
 */
function perEntry(t: tf.Tensor): number[] {
  const s = tf.tidy(() => tf.sum(tf.reshape(t, [2, -1]), 1));
  const out = num(s);
  tf.dispose([s, t]);
  return out;
}

describe.each(ROWS)('$name', (row) => {
  it('domain/codomain constraints have the bijector event dims', () => {
    const bj = row.make();
    expect(bj.domain.eventDim).toBe(bj.domainEventDim);
    expect(bj.codomain.eventDim).toBe(bj.codomainEventDim);
    bj.dispose();
  });

  it.each(BATCHES)('round trip, domain and codomain, log-det shape and sign, batch %j', (...s) => {
    const bj = row.make();
    const x = row.input(s);
    const before = tf.memory().numTensors;
    const { y, logDet } = bj.forwardAndLogDet(x);
    const back = bj.inverse(y);
    const { x: back2, logDet: ildj } = bj.inverseAndLogDet(y);
    try {
      expect(bj.domain.checkAll(x), 'input in the domain').toBe(true);
      expect(bj.codomain.checkAll(y), 'output in the codomain').toBe(true);
      expect(y.shape).toEqual(bj.forwardShape(x.shape));
      expect(back.shape).toEqual(x.shape);
      expect(num(back)).toBeAllclose(num(x), { rtol: 1e-4, atol: 1e-4 });
      expect(num(back2)).toBeAllclose(num(back), { rtol: 1e-6, atol: 1e-6 });
      const batch = y.shape.slice(0, y.rank - bj.codomainEventDim);
      expect(logDet.shape).toEqual(batch);
      expect(ildj.shape).toEqual(batch);
      expect(num(ildj)).toBeAllclose(
        num(logDet).map((v) => -v),
        { rtol: 1e-4, atol: 1e-4 },
      );
    } finally {
      tf.dispose([y, logDet, back, back2, ildj]);
    }
    expect(tf.memory().numTensors, 'tensors left').toBe(before);
    x.dispose();
    bj.dispose();
  });
});

describe.each(ROWS.filter((r) => r.edges !== undefined))('$name', (row) => {
  it('round trip near the edges of the domain', () => {
    const bj = row.make();
    const x = (row.edges as () => tf.Tensor)();
    const y = bj.forward(x);
    const back = bj.inverse(y);
    const ldj = bj.forwardLogDetJacobian(x);
    const ildj = bj.inverseLogDetJacobian(y);
    const tol = row.edgeTol ?? 1e-4;
    expect(num(back)).toBeAllclose(num(x), { rtol: tol, atol: tol });
    expect(num(ldj).every(Number.isFinite), `finite log-det ${num(ldj).join(',')}`).toBe(true);
    expect(num(ildj)).toBeAllclose(
      num(ldj).map((v) => -v),
      { rtol: tol, atol: tol },
    );
    tf.dispose([x, y, back, ldj, ildj]);
    bj.dispose();
  });
});

describe.each(ROWS.filter((r) => r.ref.kind !== 'none'))('$name', (row) => {
  it('forward log|det J| equals the autodiff Jacobian', () => {
    const bj = row.make();
    const x = row.input([2]);
    const ldj = perEntry(bj.forwardLogDetJacobian(x));
    const ref = row.ref;
    const f = (v: tf.Tensor): tf.Tensor => {
      const y = bj.forward(v);
      return ref.kind === 'proj' ? ref.proj(y) : y;
    };
    const jac = jacobians(f, x);
    const expected = jac.map((m) => (ref.kind === 'gram' ? gramLogVolume(m) : logAbsDet(m)));
    expect(ldj).toBeAllclose(expected, { rtol: 2e-4, atol: 2e-4 });
    x.dispose();
    bj.dispose();
  });
});

describe.each(ROWS.filter((r) => r.ref.kind === 'square'))('$name', (row) => {
  it('inverse log|det J| equals the autodiff Jacobian of the inverse', () => {
    const bj = row.make();
    const x = row.input([2]);
    const y = bj.forward(x);
    const ildj = perEntry(bj.inverseLogDetJacobian(y));
    const jac = jacobians((v) => bj.inverse(v), y);
    expect(ildj).toBeAllclose(
      jac.map((m) => logAbsDet(m)),
      { rtol: 2e-4, atol: 2e-4 },
    );
    tf.dispose([x, y]);
    bj.dispose();
  });
});
