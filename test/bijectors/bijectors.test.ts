import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors, ArgumentError } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const { Exp, Sigmoid, Softplus, ScalarAffine, PowerTransform, GumbelCDF, Invert, Chain } =
  bijectors;
type B = bijectors.Bijector;

interface Case {
  name: string;
  make: () => B;
  /** Points of the domain. */
  xs: number[];
  /** Independent float64 reference of the forward map (closed form in plain JS), if any. */
  ref?: (x: number) => number;
}

const softplusRef = (k: number) => (x: number) => Math.log1p(Math.exp(k * x)) / k;
const sigmoidRef = (x: number) => 1 / (1 + Math.exp(-x));

const cases: Case[] = [
  { name: 'Exp', make: () => new Exp(), xs: [-2, -0.5, 0, 0.7, 2], ref: Math.exp },
  { name: 'Sigmoid', make: () => new Sigmoid(), xs: [-3, -1, 0, 0.5, 2.5], ref: sigmoidRef },
  { name: 'Softplus(1)', make: () => new Softplus(), xs: [-3, -1, 0, 1, 4], ref: softplusRef(1) },
  {
    name: 'Softplus(2.5)',
    make: () => new Softplus(2.5),
    xs: [-1.5, -0.2, 0.3, 2],
    ref: softplusRef(2.5),
  },
  {
    name: 'ScalarAffine(2, 1)',
    make: () => new ScalarAffine(2, 1),
    xs: [-2, 0, 0.5, 3],
    ref: (x) => 2 * x + 1,
  },
  {
    name: 'ScalarAffine(-0.5, 3)',
    make: () => new ScalarAffine(-0.5, 3),
    xs: [-2, 0, 0.5, 3],
    ref: (x) => -0.5 * x + 3,
  },
  {
    name: 'PowerTransform(0.5)',
    make: () => new PowerTransform(0.5),
    xs: [-1.5, -0.5, 0, 1, 3],
    ref: (x) => (1 + 0.5 * x) ** 2,
  },
  {
    name: 'PowerTransform(2)',
    make: () => new PowerTransform(2),
    xs: [-0.4, 0, 0.5, 2],
    ref: (x) => Math.sqrt(1 + 2 * x),
  },
  { name: 'PowerTransform(0)', make: () => new PowerTransform(0), xs: [-1, 0, 1.2], ref: Math.exp },
  {
    name: 'GumbelCDF(0.5, 2)',
    make: () => new GumbelCDF(0.5, 2),
    xs: [-2, -0.5, 0.5, 2, 4],
    ref: (x) => Math.exp(-Math.exp(-(x - 0.5) / 2)),
  },
  {
    name: 'Invert(Exp)',
    make: () => new Invert(new Exp()),
    xs: [0.2, 1, 3.5],
    ref: Math.log,
  },
  {
    name: 'Invert(GumbelCDF(0, 1.5))',
    make: () => new Invert(new GumbelCDF(0, 1.5)),
    xs: [0.1, 0.4, 0.8],
    ref: (y) => -1.5 * Math.log(-Math.log(y)),
  },
  {
    name: 'Chain([Exp, ScalarAffine(2, 1), Sigmoid])',
    make: () => new Chain([new Exp(), new ScalarAffine(2, 1), new Sigmoid()]),
    xs: [-2, 0, 0.8, 2],
    ref: (x) => Math.exp(2 * sigmoidRef(x) + 1),
  },
  {
    name: 'Chain([Invert(Softplus(2)), PowerTransform(0.5)])',
    make: () => new Chain([new Invert(new Softplus(2)), new PowerTransform(0.5)]),
    xs: [-1, 0, 1.5],
    ref: (x) => {
      const y = (1 + 0.5 * x) ** 2;
      return Math.log(Math.expm1(2 * y)) / 2;
    },
  },
];

/** Host-side float64 values of a bijector's forward/inverse on one scalar. */
function scalarMap(f: (t: tf.Tensor) => tf.Tensor): (x: number) => number {
  return (x) =>
    tf.tidy(() => {
      const v = f(tf.tensor1d([x])).dataSync()[0];
      return v as number;
    });
}

/** log|df/dx| by a float64 central difference of float32 map values. */
function numericLogDet(f: (x: number) => number, x: number, h: number): number {
  return Math.log(Math.abs((f(x + h) - f(x - h)) / (2 * h)));
}

describe.each(cases)('$name', ({ make, xs, ref }) => {
  it('forward matches an independent float64 closed form', () => {
    if (ref === undefined) return;
    const b = make();
    const y = expectNoLeak(() => b.forward(xs));
    expect(y).toBeAllclose(xs.map(ref), { rtol: 1e-5, atol: 1e-6 });
    b.dispose();
  });

  it('inverse(forward(x)) = x', () => {
    const b = make();
    const y = b.forward(xs);
    const x = expectNoLeak(() => b.inverse(y));
    expect(x).toBeAllclose(xs, { rtol: 1e-4, atol: 1e-5 });
    y.dispose();
    b.dispose();
  });

  it('forward log-det matches a numerical Jacobian', () => {
    const b = make();
    const ld = expectNoLeak(() => b.forwardLogDetJacobian(xs));
    const f = scalarMap((t) => b.forward(t));
    const num = xs.map((x) => numericLogDet(f, x, 5e-3));
    expect(ld).toBeAllclose(num, { rtol: 1e-3, atol: 1e-3 });
    b.dispose();
  });

  it('inverse log-det matches a numerical Jacobian and equals -forward log-det', () => {
    const b = make();
    const yT = b.forward(xs);
    const ys = Array.from(yT.dataSync());
    const ild = expectNoLeak(() => b.inverseLogDetJacobian(yT));
    const fld = expectNoLeak(() => b.forwardLogDetJacobian(xs));
    expect(ild).toBeAllclose(
      fld.map((v) => -v),
      { rtol: 1e-4, atol: 1e-4 },
    );
    const g = scalarMap((t) => b.inverse(t));
    // Step relative to |y| so it stays inside the range (e.g. (0, 1) for Sigmoid).
    const num = ys.map((y) => numericLogDet(g, y, 1e-2 * Math.max(Math.min(Math.abs(y), 1), 0.1)));
    expect(ild).toBeAllclose(num, { rtol: 2e-3, atol: 2e-3 });
    yT.dispose();
    b.dispose();
  });

  it('forwardAndLogDet and inverseAndLogDet agree with the single methods, without leaks', () => {
    const b = make();
    const before = tf.memory().numTensors;
    const { y, logDet } = b.forwardAndLogDet(xs);
    const { x, logDet: ild } = b.inverseAndLogDet(y);
    expect(tf.memory().numTensors).toBe(before + 4);
    const y1 = expectNoLeak(() => b.forward(xs));
    const ld1 = expectNoLeak(() => b.forwardLogDetJacobian(xs));
    expect(y).toBeAllclose(y1);
    expect(logDet).toBeAllclose(ld1);
    expect(x).toBeAllclose(xs, { rtol: 1e-4, atol: 1e-5 });
    expect(ild).toBeAllclose(
      ld1.map((v) => -v),
      { rtol: 1e-4, atol: 1e-4 },
    );
    tf.dispose([y, logDet, x, ild]);
    expect(tf.memory().numTensors).toBe(before);
    b.dispose();
  });
});

describe('bijector specifics', () => {
  it('Softplus(2) reproduces the MindSpore documentation example', () => {
    const b = new Softplus(2);
    expect(b.forward([2])).toBeAllclose([2.009075], { rtol: 1e-6 });
    expect(b.inverse([2])).toBeAllclose([1.9907573], { rtol: 1e-6 });
    expect(b.forwardLogDetJacobian([2])).toBeAllclose([-0.01814996], { rtol: 1e-5 });
    expect(b.inverseLogDetJacobian([2])).toBeAllclose([0.01848531], { rtol: 1e-5 });
    b.dispose();
  });

  it('log-dets stay finite where the naive formulas overflow or underflow', () => {
    const sp = new Softplus();
    // log sigmoid(x) for x = -100 is -100 (naive log(sigmoid) underflows to -inf in float32)
    expect(sp.forwardLogDetJacobian([-100, 100])).toBeAllclose([-100, 0], { atol: 1e-5 });
    expect(sp.forward([-20, 100])).toBeAllclose([Math.log1p(Math.exp(-20)), 100], {
      rtol: 1e-6,
      atol: 0,
    });
    expect(new Softplus(4).forward([50])).toBeAllclose([50], { rtol: 1e-6 });
    const sg = new Sigmoid();
    // log sigmoid'(x) = -|x| - 2 log(1 + e^-|x|) -> -|x|
    expect(sg.forwardLogDetJacobian([-60, 60])).toBeAllclose([-60, -60], { rtol: 1e-6 });
    // Softplus inverse near 0: log(expm1(y)) ~ log(y)
    expect(sp.inverse([1e-4])).toBeAllclose([Math.log(Math.expm1(1e-4))], { rtol: 1e-4 });
  });

  it('parameters broadcast against the input', () => {
    const b = new ScalarAffine([1, -2, 3], 0.5);
    expect(b.paramShape).toEqual([3]);
    expect(b.isIncreasing).toBeUndefined();
    const y = b.forward([[1], [2]]);
    expect(y.shape).toEqual([2, 3]);
    expect(y).toBeAllclose([1.5, -1.5, 3.5, 2.5, -3.5, 6.5]);
    const ld = b.forwardLogDetJacobian([[1], [2]]);
    expect(ld.shape).toEqual([2, 3]);
    expect(ld).toBeAllclose([0, Math.log(2), Math.log(3), 0, Math.log(2), Math.log(3)]);
    tf.dispose([y, ld]);
    const p = new PowerTransform([0, 0.5]);
    expect(p.forward([2, 2])).toBeAllclose([Math.exp(2), 4]);
    expect(p.forwardLogDetJacobian([2, 2])).toBeAllclose([2, Math.log(2)]);
    expect(p.inverseLogDetJacobian([4, 4])).toBeAllclose([-Math.log(4), -0.5 * Math.log(4)]);
    b.dispose();
    p.dispose();
  });

  it('monotonicity: decreasing maps and their compositions', () => {
    expect(new Exp().isIncreasing).toBe(true);
    expect(new ScalarAffine(-1).isIncreasing).toBe(false);
    expect(new Invert(new ScalarAffine(-1)).isIncreasing).toBe(false);
    expect(new Chain([new ScalarAffine(-1), new Exp(), new ScalarAffine(-2)]).isIncreasing).toBe(
      true,
    );
    expect(new Chain([new ScalarAffine(-1), new Exp()]).isIncreasing).toBe(false);
    expect(new Chain([new ScalarAffine([1, -1]), new Exp()]).isIncreasing).toBeUndefined();
  });

  it('Chain applies right to left and the empty chain is the identity', () => {
    const c = new Chain([new ScalarAffine(2), new ScalarAffine(1, 3)]); // 2 (x + 3)
    expect(expectNoLeak(() => c.forward([1]))).toBeAllclose([8]);
    expect(expectNoLeak(() => c.inverse([8]))).toBeAllclose([1]);
    const id = new Chain([]);
    expect(expectNoLeak(() => id.forward([1, 2]))).toBeAllclose([1, 2]);
    expect(expectNoLeak(() => id.inverse([1, 2]))).toBeAllclose([1, 2]);
    expect(expectNoLeak(() => id.forwardLogDetJacobian([1, 2]))).toBeAllclose([0, 0]);
    expect(expectNoLeak(() => id.inverseLogDetJacobian([1, 2]))).toBeAllclose([0, 0]);
    c.bijectors.forEach((b) => b.dispose());
  });

  it('log-dets carry gradients (usable in flows)', () => {
    const b = new Softplus(1.5);
    const g = tf.grad((x: tf.Tensor) => tf.sum(b.forwardLogDetJacobian(x)));
    const before = tf.memory().numTensors;
    const dx = g(tf.tensor1d([0.3, -1]));
    // d/dx log sigmoid(kx) = k sigmoid(-kx)
    expect(dx).toBeAllclose([1.5 * sigmoidRef(-0.45), 1.5 * sigmoidRef(1.5)], { rtol: 1e-5 });
    dx.dispose();
    expect(tf.memory().numTensors).toBe(before + 1); // the input tensor of g
    b.dispose();
  });

  it('dispose frees parameters created from numbers, never the caller tensors', () => {
    const scale = tf.scalar(2);
    const before = tf.memory().numTensors;
    const b = new ScalarAffine(scale, 1);
    expect(tf.memory().numTensors).toBe(before + 1);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(scale.isDisposed).toBe(false);
    scale.dispose();
  });
});

describe('bijector errors', () => {
  it('reject bad parameters with an ArgumentError naming the argument', () => {
    expect(() => new ScalarAffine(0, 1)).toThrow(ArgumentError);
    expect(() => new ScalarAffine(0, 1)).toThrow(/scale: expected a finite nonzero value, got 0/);
    expect(() => new ScalarAffine(1, Number.NaN)).toThrow(/shift/);
    expect(() => new ScalarAffine([1, 2], [1, 2, 3])).toThrow(/scale\/shift/);
    expect(() => new Softplus(0)).toThrow(/sharpness: expected a finite value > 0/);
    expect(() => new Softplus([1, -1])).toThrow(/sharpness.*at index 1/);
    expect(() => new PowerTransform(-0.5)).toThrow(/power: expected a finite value >= 0/);
    expect(() => new GumbelCDF(0, -1)).toThrow(/scale: expected a finite value > 0/);
    expect(() => new GumbelCDF(Number.POSITIVE_INFINITY, 1)).toThrow(/loc/);
    const notBijector = {} as unknown as B;
    expect(() => new Invert(notBijector)).toThrow(/bijector: expected a Bijector/);
    expect(() => new Chain([new Exp(), notBijector])).toThrow(/bijectors\[1\]/);
    expect(() => new Chain([new ScalarAffine([1, 2]), new Softplus([1, 2, 3])])).toThrow(
      /bijectors\[0\]\/bijectors\[1\]: shapes do not broadcast/,
    );
    expect(() => new Chain([new ScalarAffine([1, 2]), new Softplus([1, 2, 3])])).toThrow(
      /bijectors\[0\]\/bijectors\[1\]: shapes do not broadcast/,
    );
    expect(() => new Exp().forward('a' as unknown as number)).toThrow(/x: expected a tensor/);
    expect(() => new Exp().inverse({} as unknown as number)).toThrow(/y: expected a tensor/);
  });

  it('validateArgs: false skips the value checks', () => {
    expect(() => new GumbelCDF(0, -1, { validateArgs: false })).not.toThrow();
  });
});
