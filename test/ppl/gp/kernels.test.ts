import { describe, it, expect, beforeEach } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ppl } from '../../../src/index.js';
import { expectBadInput, expectNoLeak } from '../../helpers.js';
import { gram, lcg, r2, type KFn } from './reference.js';

const K = ppl.gp.kernels;
const rnd = lcg(7);
const Xa = Array.from({ length: 6 }, () => [rnd() * 4 - 2, rnd() * 4 - 2, rnd() * 2]);
const Za = Array.from({ length: 4 }, () => [rnd() * 4 - 2, rnd() * 4 - 2, rnd() * 2]);

function check(kernel: ppl.gp.kernels.Kernel, k: KFn, dims = 3): void {
  const X = tf.tensor2d(Xa.map((r) => r.slice(0, dims)));
  const Z = tf.tensor2d(Za.map((r) => r.slice(0, dims)));
  const xs = Xa.map((r) => r.slice(0, dims));
  const zs = Za.map((r) => r.slice(0, dims));
  kernel.forward(X).dispose(); // creates the parameters
  const kxx = expectNoLeak(() => kernel.forward(X));
  const kxz = expectNoLeak(() => kernel.forward(X, Z));
  const kd = expectNoLeak(() => kernel.forward(X, Z, true));
  expect(kxx).toBeAllclose(gram(k, xs).flat(), { rtol: 1e-5, atol: 1e-6 });
  expect(kxz).toBeAllclose(gram(k, xs, zs).flat(), { rtol: 1e-5, atol: 1e-6 });
  expect(kd).toBeAllclose(
    xs.map((x) => k(x, x)),
    { rtol: 1e-5, atol: 1e-6 },
  );
  tf.dispose([X, Z]);
}

describe('gp kernels against float64 formulas', () => {
  beforeEach(() => ppl.clearParamStore());

  it('isotropic family with ARD lengthscales', () => {
    const ls = [0.7, 1.9, 1.2];
    const v = 1.7;
    const r = (x: number[], z: number[]): number => Math.sqrt(r2(x, z, ls));
    check(
      new K.RBF({ inputDim: 3, variance: v, lengthscale: ls }),
      (x, z) => v * Math.exp(-0.5 * r2(x, z, ls)),
    );
    check(
      new K.Exponential({ inputDim: 3, variance: v, lengthscale: ls }),
      (x, z) => v * Math.exp(-r(x, z)),
    );
    check(
      new K.Matern12({ inputDim: 3, variance: v, lengthscale: ls }),
      (x, z) => v * Math.exp(-r(x, z)),
    );
    check(new K.Matern32({ inputDim: 3, variance: v, lengthscale: ls }), (x, z) => {
      const s = Math.sqrt(3) * r(x, z);
      return v * (1 + s) * Math.exp(-s);
    });
    check(new K.Matern52({ inputDim: 3, variance: v, lengthscale: ls }), (x, z) => {
      const s = Math.sqrt(5) * r(x, z);
      return v * (1 + s + (5 / 3) * r2(x, z, ls)) * Math.exp(-s);
    });
    check(
      new K.RationalQuadratic({ inputDim: 3, variance: v, lengthscale: ls, scaleMixture: 0.8 }),
      (x, z) => v * (1 + r2(x, z, ls) / (2 * 0.8)) ** -0.8,
    );
    check(
      new K.Cosine({ inputDim: 3, variance: v, lengthscale: ls }),
      (x, z) => v * Math.cos(r(x, z)),
    );
  });

  it('periodic, dot-product and static kernels', () => {
    const ls = [0.9, 1.3];
    const p = [1.5, 2.5];
    check(
      new K.Periodic({ inputDim: 2, variance: 1.3, lengthscale: ls, period: p }),
      (x, z) =>
        1.3 *
        Math.exp(
          -2 *
            x.reduce(
              (s, xd, d) => s + (Math.sin((Math.PI * (xd - z[d]!)) / p[d]!) / ls[d]!) ** 2,
              0,
            ),
        ),
      2,
    );
    const dot = (x: number[], z: number[]): number => x.reduce((s, v, d) => s + v * z[d]!, 0);
    check(new K.Linear({ inputDim: 3, variance: 0.6 }), (x, z) => 0.6 * dot(x, z));
    check(new K.DotProduct({ inputDim: 3, variance: 0.6 }), (x, z) => 0.6 * dot(x, z));
    check(
      new K.Polynomial({ inputDim: 3, variance: 0.6, bias: 0.4, degree: 3 }),
      (x, z) => 0.6 * (0.4 + dot(x, z)) ** 3,
    );
    check(new K.Constant({ inputDim: 3, variance: 2.5 }), () => 2.5);
    // WhiteNoise: sigma^2 I on K(X), zero between two sets
    const w = new K.WhiteNoise({ inputDim: 1, variance: 0.3 });
    const X = tf.tensor1d([0, 1, 2]);
    expect(w.forward(X)).toBeAllclose([0.3, 0, 0, 0, 0.3, 0, 0, 0, 0.3]);
    expect(w.forward(X, X)).toBeAllclose(new Array(9).fill(0));
    expect(w.forward(X, undefined, true)).toBeAllclose([0.3, 0.3, 0.3]);
    X.dispose();
  });

  it('active dims, combinations, vertical scaling and warping', () => {
    const k0 = new K.RBF({ inputDim: 1, activeDims: [2], lengthscale: 0.5, variance: 2 });
    const k1 = new K.Linear({ inputDim: 2, activeDims: [0, 1], variance: 0.3 });
    const f0: KFn = (x, z) => 2 * Math.exp(-0.5 * ((x[2]! - z[2]!) / 0.5) ** 2);
    const f1: KFn = (x, z) => 0.3 * (x[0]! * z[0]! + x[1]! * z[1]!);
    check(k0, f0);
    check(new K.Sum(k0, k1), (x, z) => f0(x, z) + f1(x, z));
    check(new K.Product(k0, k1), (x, z) => f0(x, z) * f1(x, z));
    check(new K.Sum(k0, 0.25), (x, z) => f0(x, z) + 0.25);
    check(new K.Product(k0, 3), (x, z) => 3 * f0(x, z));
    check(
      new K.VerticalScaling(k0, (x) => tf.exp(tf.slice(x, [0, 0], [-1, 1]))),
      (x, z) => Math.exp(x[0]!) * f0(x, z) * Math.exp(z[0]!),
    );
    check(
      new K.Warping(k0, { iwarpingFn: (x) => tf.square(x), owarpingCoef: [0.5, 1, 0.25] }),
      (x, z) => {
        const kk = f0(
          x.map((v) => v * v),
          z.map((v) => v * v),
        );
        return 0.5 + kk + 0.25 * kk * kk;
      },
    );
  });

  it('hyperparameters live in the param store, are settable and differentiable', () => {
    const k = new K.RBF({ inputDim: 1, lengthscale: 0.5, name: 'rbfk' });
    const X = tf.tensor1d([0, 0.3, 1]);
    k.forward(X).dispose();
    expect(ppl.getParamStore().names()).toEqual(['rbfk.variance', 'rbfk.lengthscale']);
    k.set('lengthscale', 2);
    expect(k.value('lengthscale')).toBeAllclose([2]);
    expect(k.forward(X)).toBeAllclose(
      gram((x, z) => Math.exp(-0.5 * ((x[0]! - z[0]!) / 2) ** 2), [[0], [0.3], [1]]).flat(),
      { rtol: 1e-5 },
    );
    // d K_01 / d u (u the unconstrained lengthscale) vs central differences
    const u = ppl.getParamStore().unconstrained('rbfk.lengthscale');
    const { value, grads } = tf.variableGrads(
      () => tf.slice(tf.reshape(k.forward(X), [-1]), [1], [1]).sum() as tf.Scalar,
      [u],
    );
    const u0 = u.dataSync()[0] as number;
    const f = (uu: number): number => {
      const l = Math.log1p(Math.exp(uu));
      return Math.exp(-0.5 * (0.3 / l) ** 2);
    };
    const fd = (f(u0 + 1e-4) - f(u0 - 1e-4)) / 2e-4;
    const gg = grads[u.name] as tf.Tensor;
    expect(gg).toBeAllclose([fd], { rtol: 1e-3 });
    tf.dispose([gg, value, X]);
  });

  it('bad inputs name the argument', async () => {
    const X = tf.zeros([3, 2]);
    const Z3 = tf.zeros([2, 3]);
    const X3 = tf.zeros([2, 2, 2]);
    const k = new K.RBF({ inputDim: 3 });
    const cases = [
      {
        call: 'non-positive lengthscale',
        run: () => new K.RBF({ inputDim: 1, lengthscale: 0 }),
        arg: 'lengthscale',
      },
      {
        call: 'negative variance',
        run: () => new K.Matern32({ inputDim: 1, variance: -1 }),
        arg: 'variance',
      },
      {
        call: 'lengthscale of the wrong size',
        run: () => new K.RBF({ inputDim: 2, lengthscale: [1, 2, 3] }),
        arg: 'lengthscale',
      },
      {
        call: 'NaN period',
        run: () => new K.Periodic({ inputDim: 1, period: NaN }),
        arg: 'period',
      },
      { call: 'missing inputDim', run: () => new K.RBF({} as never), arg: 'inputDim' },
      {
        call: 'bad activeDims',
        run: () => new K.RBF({ inputDim: 2, activeDims: [0] }),
        arg: 'activeDims',
      },
      {
        call: 'unknown option',
        run: () => new K.RBF({ inputDim: 1, length_scale: 1 } as never),
        arg: 'length_scale',
      },
      { call: 'X with too few features', run: () => k.forward(X), arg: 'X' },
      {
        call: 'Z with other features',
        run: () => new K.RBF({ inputDim: 1 }).forward(X, Z3),
        arg: 'Z',
      },
      { call: 'X of rank 3', run: () => new K.RBF({ inputDim: 1 }).forward(X3), arg: 'X' },
      {
        call: 'set outside the constraint',
        run: () => k.set('lengthscale', -2),
        arg: 'lengthscale',
      },
      {
        call: 'polynomial degree',
        run: () => new K.Polynomial({ inputDim: 1, degree: 1.5 }),
        arg: 'degree',
      },
      { call: 'Sum of a non-kernel', run: () => new K.Sum({} as never, 1), arg: 'kern0' },
      { call: 'unknown hyperparameter', run: () => k.set('period', 1), arg: 'name' },
    ];
    for (const c of cases) await expectBadInput(c);
    tf.dispose([X, Z3, X3]);
  });
});
