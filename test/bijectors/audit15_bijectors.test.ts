/**
 * Audit of issue 2 (session 15): bijectors and constraints as a TFP / Distrax user calls them —
 * round trips, log|det J| against float64 derivatives and against Jacobians assembled from
 * autodiff, the edges of the domains (Sigmoid at ±40, Softplus at -50, StickBreaking near a
 * vertex), bad parameters, TransformedDistribution against the change of variables by hand, and
 * `check` of the constraints on their boundaries.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors, distributions } from '../../src/index.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';
import { ArgumentError } from '../../src/utils/errors.js';

const b = bijectors;
const d = distributions;
type Bij = bijectors.Bijector;

/** `[y, logDet, x back]` of a bijector at `xs`, no tensor left behind. */
function roundTrip(bij: Bij, xs: number[] | number[][]): [number[], number[], number[]] {
  const before = tf.memory().numTensors;
  const x = tf.tensor(xs);
  const { y, logDet } = bij.forwardAndLogDet(x);
  const back = bij.inverse(y);
  const ild = bij.inverseLogDetJacobian(y);
  const out: [number[], number[], number[]] = [
    Array.from(y.dataSync()),
    Array.from(logDet.dataSync()),
    Array.from(back.dataSync()),
  ];
  // the inverse log-det is minus the forward one at the same point
  expect(Array.from(ild.dataSync())).toBeAllclose(
    out[1].map((v) => -v),
    { rtol: 1e-4, atol: 1e-4 },
  );
  tf.dispose([x, y, logDet, back, ild]);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

describe("scalar bijectors: round trip and log|f'(x)| against float64 closed forms", () => {
  const softplus = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
  const cases: Array<{
    name: string;
    make: () => Bij;
    xs: number[];
    f: (x: number) => number;
    logDf: (x: number) => number;
    rtRtol?: number;
  }> = [
    {
      name: 'Exp',
      make: () => new b.Exp(),
      xs: [-80, -10, 0, 10, 80],
      f: Math.exp,
      logDf: (x) => x,
    },
    {
      name: 'Sigmoid at ±15 and ±40',
      make: () => new b.Sigmoid(),
      xs: [-40, -15, -1, 0, 2],
      f: (x) => 1 / (1 + Math.exp(-x)),
      logDf: (x) => -softplus(-x) - softplus(x),
    },
    {
      name: 'Softplus at -50 .. 50',
      make: () => new b.Softplus(),
      xs: [-50, -10, 0, 10, 50],
      f: softplus,
      logDf: (x) => -softplus(-x),
    },
    {
      name: 'Tanh',
      make: () => new b.Tanh(),
      xs: [-5, -0.5, 0, 1e-4, 3],
      f: Math.tanh,
      logDf: (x) => 2 * (Math.log(2) - x - softplus(-2 * x)),
      rtRtol: 1e-3,
    },
    {
      name: 'ScalarAffine with a negative scale',
      make: () => new b.ScalarAffine(-3, 2),
      xs: [-1e3, 0, 5],
      f: (x) => 2 - 3 * x,
      logDf: () => Math.log(3),
    },
    {
      name: 'PowerTransform(0) is Exp',
      make: () => new b.PowerTransform(0),
      xs: [-10, 0, 5],
      f: Math.exp,
      logDf: (x) => x,
    },
    {
      name: 'PowerTransform(0.5): (1 + x/2)^2',
      make: () => new b.PowerTransform(0.5),
      xs: [-1.9, 0, 5],
      f: (x) => (1 + 0.5 * x) ** 2,
      logDf: (x) => Math.log(1 + 0.5 * x),
    },
    {
      name: 'GumbelCDF(1, 2)',
      make: () => new b.GumbelCDF(1, 2),
      xs: [-5, 0, 1, 10],
      f: (x) => Math.exp(-Math.exp(-(x - 1) / 2)),
      logDf: (x) => -Math.log(2) - (x - 1) / 2 - Math.exp(-(x - 1) / 2),
    },
    {
      name: 'Invert(Exp) is log',
      make: () => new b.Invert(new b.Exp()),
      xs: [1e-30, 0.5, 3],
      f: Math.log,
      logDf: (x) => -Math.log(x),
    },
    {
      name: 'Chain([Exp, ScalarAffine(2, 1)]) is exp(2x + 1)',
      make: () => new b.Chain([new b.Exp(), new b.ScalarAffine(2, 1)]),
      xs: [-3, 0, 2],
      f: (x) => Math.exp(2 * x + 1),
      logDf: (x) => Math.log(2) + 2 * x + 1,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const bij = c.make();
      const [y, ld, back] = roundTrip(bij, c.xs);
      expect(y).toBeAllclose(c.xs.map(c.f), { rtol: 1e-5, atol: 1e-30 });
      expect(ld).toBeAllclose(c.xs.map(c.logDf), { rtol: 1e-5, atol: 1e-5 });
      expect(back).toBeAllclose(c.xs, { rtol: c.rtRtol ?? 1e-5, atol: 1e-5 });
      // autodiff of forward in float32 against the analytic log-det, away from saturation
      const x = tf.tensor1d(c.xs);
      const g = tf.grad((t: tf.Tensor) => tf.sum(bij.forward(t)))(x);
      const gv = Array.from(g.dataSync());
      tf.dispose([x, g]);
      gv.forEach((gi, i) => {
        if (Math.abs(gi) > 1e-30 && Number.isFinite(gi)) {
          expect(Math.log(Math.abs(gi))).toBeCloseTo(ld[i] as number, 3);
        }
      });
      bij.dispose();
    });
  }
  it('Softplus inverse at y = softplus(-50) = 1.9e-22 is -50 and its log-det is finite', () => {
    const sp = new b.Softplus();
    const y = [softplus(-50), softplus(-20), 1e-3, 50];
    const x = expectNoLeak(() => sp.inverse(y));
    expect(x).toBeAllclose([-50, -20, Math.log(Math.expm1(1e-3)), 50], { rtol: 1e-5 });
    const ild = expectNoLeak(() => sp.inverseLogDetJacobian(y));
    // d/dy softplus^{-1}(y) = 1 / (1 - e^{-y})
    expect(ild).toBeAllclose(
      y.map((v) => -Math.log(-Math.expm1(-v))),
      { rtol: 1e-5, atol: 1e-6 },
    );
  });
  it('Sigmoid inverse at y = 0, 1 gives ∓Infinity, never NaN; its log-det at tiny y is finite', () => {
    const s = new b.Sigmoid();
    expect(expectNoLeak(() => s.inverse([0, 1]))).toEqual([-Infinity, Infinity]);
    const y = [1e-30, 1e-17, 0.5];
    expect(expectNoLeak(() => s.inverseLogDetJacobian(y))).toBeAllclose(
      y.map((v) => -Math.log(v) - Math.log1p(-v)),
      { rtol: 1e-5 },
    );
  });
});

/** `log|det J|` of `f` at `x` (a vector) from its Jacobian assembled row by row with autodiff. */
function logDetFromAutodiff(f: (x: tf.Tensor) => tf.Tensor, x0: number[], rows: number): number {
  const n = x0.length;
  const J: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const x = tf.tensor1d(x0);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.slice(tf.reshape(f(t), [-1]), [r], [1])))(x);
    J.push(Array.from(g.dataSync()));
    tf.dispose([x, g]);
  }
  // LU determinant in float64 (partial pivoting)
  const a = J.map((row) => row.slice(0, n));
  let logdet = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(a[i]![k]!) > Math.abs(a[p]![k]!)) p = i;
    [a[k], a[p]] = [a[p]!, a[k]!];
    const piv = a[k]![k]!;
    logdet += Math.log(Math.abs(piv));
    for (let i = k + 1; i < n; i++) {
      const m = a[i]![k]! / piv;
      for (let j = k; j < n; j++) a[i]![j]! -= m * a[k]![j]!;
    }
  }
  return logdet;
}

describe('vector bijectors: log|det J| against the autodiff Jacobian, round trips near the edges', () => {
  it('StickBreaking: K = 5, the Jacobian of the first K-1 coordinates', () => {
    const sb = new b.StickBreaking();
    for (const x0 of [
      [0.3, -1.2, 2, 0.1],
      [4, -3, 0, 1.5],
    ]) {
      const [, ld, back] = roundTrip(sb, x0);
      expect(back).toBeAllclose(x0, { rtol: 1e-4, atol: 1e-4 });
      const ref = logDetFromAutodiff((t) => sb.forward(t), x0, 4);
      expect(ld[0]).toBeCloseTo(ref, 3);
    }
  });
  it('StickBreaking near a vertex and at one: finite or ∓Infinity, never NaN', () => {
    const sb = new b.StickBreaking();
    const near = [
      [1 - 3e-7, 1e-7, 1e-7, 1e-7],
      [1e-6, 1e-6, 1e-6, 1 - 3e-6],
    ];
    const x = expectNoLeak(() => sb.inverse(near));
    expect(x.every(Number.isFinite)).toBe(true);
    const xt = tf.tensor2d(x, [2, 3]);
    const y = expectNoLeak(() => sb.forward(xt));
    xt.dispose();
    expect(y).toBeAllclose(near.flat(), { rtol: 1e-3, atol: 1e-9 });
    const at = expectNoLeak(() => sb.inverse([[1, 0, 0, 0]]));
    expect(at.some(Number.isNaN)).toBe(false);
  });
  it('CorrCholeskyTransform (D = 4): round trip, unit rows, log-det against autodiff', () => {
    const cc = new b.CorrCholeskyTransform();
    const x0 = [0.5, -0.3, 2, 0.1, -1, 0.7];
    const before = tf.memory().numTensors;
    const L = cc.forward(x0);
    const rows = tf.tidy(() => tf.sum(tf.square(L), -1));
    expect(Array.from(rows.dataSync())).toBeAllclose([1, 1, 1, 1], { rtol: 1e-5 });
    const back = cc.inverse(L);
    expect(Array.from(back.dataSync())).toBeAllclose(x0, { rtol: 1e-4, atol: 1e-5 });
    const ldT = cc.forwardLogDetJacobian(x0);
    const ld = ldT.dataSync()[0] as number;
    tf.dispose([L, rows, back, ldT]);
    expect(tf.memory().numTensors).toBe(before);
    // the map onto the strictly lower entries (the diagonal is determined by them)
    const idx = [4, 8, 9, 12, 13, 14];
    const f = (t: tf.Tensor): tf.Tensor => tf.gather(tf.reshape(cc.forward(t), [-1]), idx);
    expect(ld).toBeCloseTo(logDetFromAutodiff(f, x0, 6), 3);
  });
});

describe('TransformedDistribution against the change of variables by hand', () => {
  it('Normal through Sigmoid (logit-normal) in float64', () => {
    const td = new d.TransformedDistribution(new d.Normal(0.3, 1.7), new b.Sigmoid());
    const ys = [1e-6, 0.2, 0.5, 0.999];
    const got = expectNoLeak(() => td.logProb(ys));
    const ref = ys.map((y) => {
      const x = Math.log(y / (1 - y));
      const z = (x - 0.3) / 1.7;
      return -0.5 * z * z - Math.log(1.7) - 0.5 * Math.log(2 * Math.PI) - Math.log(y * (1 - y));
    });
    expect(got).toBeAllclose(ref, { rtol: 1e-5 });
    // outside the codomain: -Infinity, not NaN
    expect(expectNoLeak(() => td.logProb([-0.5, 1.5]))).toEqual([-Infinity, -Infinity]);
    td.dispose();
  });
  it('base batch [3, 1] through Exp scores a value [4] as [3, 4]', () => {
    const base = new d.Normal(tf.tensor2d([[0], [1], [2]]), 0.5);
    const td = new d.TransformedDistribution(base, new b.Exp());
    let shape: number[] = [];
    const got = expectNoLeak(() => {
      const out = td.logProb([0.5, 1, 2, 3]);
      shape = out.shape;
      return out;
    });
    expect(shape).toEqual([3, 4]);
    const ref = [0, 1, 2].flatMap((m) =>
      [0.5, 1, 2, 3].map((y) => {
        const z = (Math.log(y) - m) / 0.5;
        return -0.5 * z * z - Math.log(0.5) - 0.5 * Math.log(2 * Math.PI) - Math.log(y);
      }),
    );
    expect(got).toBeAllclose(ref, { rtol: 1e-5 });
    td.dispose();
    base.dispose();
  });
  it('MultivariateNormalDiag through StickBreaking: base.logProb(x) - log|det J|', () => {
    const base = new d.MultivariateNormalDiag([0.1, -0.2, 0.3], [1, 0.5, 2]);
    const sb = new b.StickBreaking();
    const td = new d.TransformedDistribution(base, sb);
    const y = [0.1, 0.2, 0.3, 0.4];
    const got = expectNoLeak(() => td.logProb(y));
    const manual = expectNoLeak(() =>
      tf.tidy(() => {
        const x = sb.inverse(y);
        return tf.sub(base.logProb(x), sb.forwardLogDetJacobian(x));
      }),
    );
    expect(got).toBeAllclose(manual, { rtol: 1e-5 });
    let shape: number[] = [];
    expectNoLeak(() => {
      const s = td.sample([2, 3]);
      shape = s.shape;
      return s;
    });
    expect(shape).toEqual([2, 3, 4]);
    td.dispose();
    base.dispose();
  });
});

describe('bad bijector parameters and points are ArgumentErrors naming them, before any work', () => {
  const rows: Array<{ call: string; run: () => unknown; arg: string | RegExp }> = [
    { call: 'ScalarAffine(0)', run: () => new b.ScalarAffine(0), arg: 'scale' },
    { call: 'ScalarAffine(NaN)', run: () => new b.ScalarAffine(NaN), arg: 'scale' },
    {
      call: 'Affine with a zero scale entry',
      run: () => new b.Affine([0, 0], [1, 0]),
      arg: 'scale',
    },
    { call: 'PowerTransform(-1)', run: () => new b.PowerTransform(-1), arg: 'power' },
    { call: 'GumbelCDF scale 0', run: () => new b.GumbelCDF(0, 0), arg: 'scale' },
    { call: 'GumbelCDF scale -1', run: () => new b.GumbelCDF(0, -1), arg: 'scale' },
    {
      call: 'CorrCholeskyTransform of a length not n(n-1)/2',
      run: () => new b.CorrCholeskyTransform().forward([0.5, -0.3]),
      arg: 'x',
    },
    {
      call: 'LowerCholeskyTransform of a length not n(n+1)/2',
      run: () => new b.LowerCholeskyTransform().forward([1, 2]),
      arg: 'x',
    },
    { call: 'Exp of a string', run: () => new b.Exp().forward('a' as unknown as number), arg: 'x' },
  ];
  for (const r of rows) it(r.call, () => expectBadInput(r));
});

describe('constraints: check on boundary values', () => {
  const c = d.constraints;
  const check = (
    con: distributions.Constraint,
    v: number[] | number[][] | number[][][],
  ): number[] => {
    const t = tf.tensor(v);
    const out = expectNoLeak(() => con.check(t));
    t.dispose();
    return out;
  };
  it('open and closed ends', () => {
    expect(check(c.positive, [0, 1e-30, Infinity, NaN])).toEqual([0, 1, 1, 0]);
    expect(check(c.nonnegative, [0, -1e-30, 3])).toEqual([1, 0, 1]);
    expect(check(c.unitInterval, [0, 1, 1.0000001, -1e-9])).toEqual([1, 1, 0, 0]);
    expect(check(c.greaterThan(2), [2, 2.0001])).toEqual([0, 1]);
    expect(check(c.interval(0, 1), [0, 1, 0.5, 1.1])).toEqual([1, 1, 1, 0]);
    expect(check(c.boolean, [0, 1, 0.5])).toEqual([1, 1, 0]);
    expect(check(c.nonnegativeInteger, [0, 3, 1.5, -1])).toEqual([1, 1, 0, 0]);
  });
  it('structured: simplex rows (vertex included), Cholesky factors, SPD and correlation matrices', () => {
    expect(
      check(c.simplex, [
        [0.2, 0.8],
        [1, 0],
        [0.5, 0.6],
        [-0.1, 1.1],
      ]),
    ).toEqual([1, 1, 0, 0]);
    expect(
      check(c.lowerCholesky, [
        [
          [1, 0],
          [0.5, 1],
        ],
        [
          [1, 0.1],
          [0.5, 1],
        ],
      ]),
    ).toEqual([1, 0]);
    expect(
      check(c.corrCholesky, [
        [
          [1, 0],
          [0.6, 0.8],
        ],
        [
          [1, 0],
          [0.5, 1],
        ],
      ]),
    ).toEqual([1, 0]);
    expect(
      check(c.positiveDefinite, [
        [
          [1, 0],
          [0, 1],
        ],
        [
          [1, 2],
          [2, 1],
        ],
      ]),
    ).toEqual([1, 0]);
    expect(
      check(c.corrMatrix, [
        [
          [1, 0.5],
          [0.5, 1],
        ],
        [
          [1, 0.5],
          [0.5, 2],
        ],
      ]),
    ).toEqual([1, 0]);
  });
  it('an ArgumentError is the type thrown for bad bijector parameters (not a raw tfjs error)', () => {
    expect(() => new b.ScalarAffine(0)).toThrow(ArgumentError);
  });
});
