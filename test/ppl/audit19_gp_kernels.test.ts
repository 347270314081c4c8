/**
 * Audit 19, Pyro's `pyro.contrib.gp.kernels` as a user: the `Exponent`, `Brownian` and
 * `Coregionalize` kernels (missing before) against float64 closed forms; for every kernel, `diag` equals the diagonal
 * of the full Gram matrix; gradients w.r.t. the (unconstrained) hyperparameters against central
 * differences of float64 closed forms.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { ppl, setSeed } from '../../src/index.js';
import { expectArgumentError, expectNoLeak, finiteDiff } from '../helpers.js';
import { gram, lcg, type KFn } from './gp/reference.js';

const K = ppl.gp.kernels;
const rnd = lcg(19);
const Xa = Array.from({ length: 5 }, () => [rnd() * 4 - 2, rnd() * 4 - 2]);
const Za = Array.from({ length: 3 }, () => [rnd() * 4 - 2, rnd() * 4 - 2]);
const softplus = (u: number): number => Math.log1p(Math.exp(u));

/** Full, cross and diagonal Gram matrices of `kernel` against the float64 `k`. */
function check(kernel: ppl.gp.kernels.Kernel, k: KFn): void {
  const X = tf.tensor2d(Xa);
  const Z = tf.tensor2d(Za);
  kernel.forward(X).dispose(); // creates the parameters
  expect(expectNoLeak(() => kernel.forward(X))).toBeAllclose(gram(k, Xa).flat(), {
    rtol: 1e-5,
    atol: 1e-6,
  });
  expect(expectNoLeak(() => kernel.forward(X, Z))).toBeAllclose(gram(k, Xa, Za).flat(), {
    rtol: 1e-5,
    atol: 1e-6,
  });
  expect(expectNoLeak(() => kernel.forward(X, undefined, true))).toBeAllclose(
    Xa.map((x) => k(x, x)),
    { rtol: 1e-5, atol: 1e-6 },
  );
  tf.dispose([X, Z]);
}

describe('gp kernels (audit 19)', () => {
  beforeEach(() => ppl.clearParamStore());

  it("Exponent (Pyro's): exp of a kernel, on its active dims", () => {
    const lin = new K.Linear({ inputDim: 1, activeDims: [1], variance: 0.4 });
    check(new K.Exponent(lin), (x, z) => Math.exp(0.4 * x[1]! * z[1]!));
    const rbf = new K.RBF({ inputDim: 2, variance: 0.7, lengthscale: [0.8, 1.5] });
    const r2 = (x: number[], z: number[]): number =>
      ((x[0]! - z[0]!) / 0.8) ** 2 + ((x[1]! - z[1]!) / 1.5) ** 2;
    check(new K.Exponent(new K.Sum(rbf, lin)), (x, z) =>
      Math.exp(0.7 * Math.exp(-0.5 * r2(x, z)) + 0.4 * x[1]! * z[1]!),
    );
  });

  it("Brownian (Pyro's): sigma^2 min(|x|, |z|) for inputs of one sign, 0 across zero", () => {
    const b = new K.Brownian({ inputDim: 1, activeDims: [0], variance: 1.6 });
    check(b, (x, z) =>
      Math.sign(x[0]!) === Math.sign(z[0]!) ? 1.6 * Math.min(Math.abs(x[0]!), Math.abs(z[0]!)) : 0,
    );
    // a 1-d input, the second feature
    const b2 = new K.Brownian({ inputDim: 1, activeDims: [1] });
    check(b2, (x, z) =>
      Math.sign(x[1]!) === Math.sign(z[1]!) ? Math.min(Math.abs(x[1]!), Math.abs(z[1]!)) : 0,
    );
    expectArgumentError(() => new K.Brownian({ inputDim: 2 }), 'inputDim', /expected 1, got 2/);
    expectArgumentError(() => new K.Exponent(3 as never), 'kern', /expected a gp kernel/);
  });

  it("Coregionalize (Pyro's): x^T (W W^T + diag d) z on the active dims; seeded default W", () => {
    const W = [
      [0.3, -0.5],
      [1.1, 0.2],
    ];
    const d = [0.4, 0.9];
    const k = new K.Coregionalize({ inputDim: 2, components: W, diagonal: d });
    expect(k.rank).toBe(2);
    const B = (i: number, j: number): number =>
      W[i]![0]! * W[j]![0]! + W[i]![1]! * W[j]![1]! + (i === j ? d[i]! : 0);
    check(k, (x, z) =>
      [0, 1].reduce((s, i) => s + [0, 1].reduce((t, j) => t + x[i]! * B(i, j) * z[j]!, 0), 0),
    );
    // one-hot output indicators in columns 1..2 of [input, onehot]: K = B[o_i, o_j]
    const kd = new K.Coregionalize({ inputDim: 2, activeDims: [1, 2], components: W, diagonal: d });
    const X = tf.tensor2d([
      [0.3, 1, 0],
      [-1, 0, 1],
      [2, 0, 1],
    ]);
    expect(kd.forward(X)).toBeAllclose(
      [B(0, 0), B(0, 1), B(0, 1), B(1, 0), B(1, 1), B(1, 1), B(1, 0), B(1, 1), B(1, 1)],
      { rtol: 1e-5 },
    );
    // the default W [D, R] ~ N(0, 0.5 / R), from the global seed stream
    setSeed(11);
    const a = new K.Coregionalize({ inputDim: 3, rank: 1 });
    setSeed(11);
    const b = new K.Coregionalize({ inputDim: 3, rank: 1 });
    a.forward(X.slice([0, 0], [3, 3])).dispose();
    b.forward(X.slice([0, 0], [3, 3])).dispose();
    const wa = a.value('components');
    const wb = b.value('components');
    expect(wa.shape).toEqual([3, 1]);
    expect(wa).toBeAllclose(wb);
    expect(a.value('diagonal')).toBeAllclose([0.5, 0.5, 0.5]);
    expectArgumentError(
      () => new K.Coregionalize({ inputDim: 2, components: [[1, 2, 3]] }),
      'components',
      /\[inputDim = 2, rank\]/,
    );
    expectArgumentError(
      () => new K.Coregionalize({ inputDim: 2, diagonal: [1, 2, 3] }),
      'diagonal',
      /inputDim = 2/,
    );
    expectArgumentError(
      () => new K.Coregionalize({ inputDim: 2, rank: 0 }),
      'rank',
      /integer >= 1/,
    );
    tf.dispose([X, wa, wb]);
  });

  it('every kernel: diag is the diagonal of the full Gram matrix', () => {
    const X = tf.tensor2d(Xa);
    const base = (): ppl.gp.kernels.Kernel =>
      new K.Matern52({ inputDim: 2, lengthscale: [0.6, 1.1], variance: 1.3 });
    const kernels: ppl.gp.kernels.Kernel[] = [
      new K.RBF({ inputDim: 2, lengthscale: 0.7 }),
      new K.RationalQuadratic({ inputDim: 2, scaleMixture: 0.6 }),
      new K.Exponential({ inputDim: 2 }),
      new K.Matern32({ inputDim: 1, activeDims: [1] }),
      base(),
      new K.Cosine({ inputDim: 2 }),
      new K.Periodic({ inputDim: 2, period: [1.2, 2], lengthscale: 0.8 }),
      new K.Linear({ inputDim: 2, variance: 0.5 }),
      new K.Polynomial({ inputDim: 2, bias: 0.3, degree: 3 }),
      new K.Constant({ inputDim: 2, variance: 0.9 }),
      new K.WhiteNoise({ inputDim: 2, variance: 0.2 }),
      new K.Brownian({ inputDim: 1 }),
      new K.Coregionalize({ inputDim: 2, rank: 1 }),
      new K.Sum(base(), new K.WhiteNoise({ inputDim: 2 })),
      new K.Product(base(), 2.5),
      new K.Exponent(new K.Linear({ inputDim: 2, variance: 0.2 })),
      new K.VerticalScaling(base(), (x) => tf.sum(x, 1)),
      new K.Warping(base(), { iwarpingFn: (x) => tf.tanh(x), owarpingCoef: [0.5, 1, 2] }),
    ];
    for (const k of kernels) {
      const full = k.forward(X);
      const diagOfFull = tf.tidy(() => tf.sum(tf.mul(full, tf.eye(Xa.length)), 1));
      const diag = k.forward(X, undefined, true);
      expect(diag.shape, k.name).toEqual([Xa.length]);
      expect(diag, k.name).toBeAllclose(diagOfFull, { rtol: 1e-5, atol: 1e-6 });
      tf.dispose([full, diagOfFull, diag]);
    }
    X.dispose();
  });

  it('gradients w.r.t. the unconstrained hyperparameters equal central differences (float64)', () => {
    // objective: sum_ij W_ij K(X, Z)_ij + sum_i K(X)_ii (both the cross and the full matrix)
    const W = Xa.map(() => Za.map(() => rnd() - 0.5));
    const X = tf.tensor2d(Xa);
    const Z = tf.tensor2d(Za);
    const Wt = tf.tensor2d(W);
    const objective = (k: ppl.gp.kernels.Kernel): tf.Scalar =>
      tf.add(tf.sum(tf.mul(k.forward(X, Z), Wt)), tf.sum(k.forward(X))) as tf.Scalar;
    const ref = (k: KFn): number =>
      gram(k, Xa, Za)
        .flat()
        .reduce((s, v, i) => s + v * W.flat()[i]!, 0) +
      gram(k, Xa)
        .flat()
        .reduce((s, v) => s + v, 0);
    type Case = {
      kernel: ppl.gp.kernels.Kernel;
      params: { owner: ppl.gp.kernels.Kernel; name: string }[];
      k: (p: number[]) => KFn; // the kernel at constrained values, in `params` order (flattened)
    };
    const m52 = new K.Matern52({ inputDim: 2, lengthscale: [0.6, 1.1], variance: 1.3 });
    const per = new K.Periodic({ inputDim: 1, activeDims: [0], period: 1.7, lengthscale: 0.9 });
    const rq = new K.RationalQuadratic({ inputDim: 2, scaleMixture: 0.6, lengthscale: 0.8 });
    const poly = new K.Polynomial({ inputDim: 2, bias: 0.3, degree: 2, variance: 0.7 });
    const lin = new K.Linear({ inputDim: 2, variance: 0.3 });
    const brown = new K.Brownian({ inputDim: 1, activeDims: [1], variance: 0.8 });
    const cases: Case[] = [
      {
        kernel: m52,
        params: [
          { owner: m52, name: 'variance' },
          { owner: m52, name: 'lengthscale' },
        ],
        k:
          ([v, l0, l1]) =>
          (x, z) => {
            const r = Math.hypot((x[0]! - z[0]!) / l0!, (x[1]! - z[1]!) / l1!);
            const s = Math.sqrt(5) * r;
            return v! * (1 + s + (5 / 3) * r * r) * Math.exp(-s);
          },
      },
      {
        kernel: per,
        params: [
          { owner: per, name: 'period' },
          { owner: per, name: 'lengthscale' },
        ],
        k:
          ([p, l]) =>
          (x, z) =>
            Math.exp(-2 * (Math.sin((Math.PI * (x[0]! - z[0]!)) / p!) / l!) ** 2),
      },
      {
        kernel: rq,
        params: [{ owner: rq, name: 'scaleMixture' }],
        k:
          ([a]) =>
          (x, z) =>
            (1 + (((x[0]! - z[0]!) / 0.8) ** 2 + ((x[1]! - z[1]!) / 0.8) ** 2) / (2 * a!)) ** -a!,
      },
      {
        kernel: poly,
        params: [{ owner: poly, name: 'bias' }],
        k:
          ([c]) =>
          (x, z) =>
            0.7 * (c! + x[0]! * z[0]! + x[1]! * z[1]!) ** 2,
      },
      {
        kernel: new K.Exponent(lin),
        params: [{ owner: lin, name: 'variance' }],
        k:
          ([v]) =>
          (x, z) =>
            Math.exp(v! * (x[0]! * z[0]! + x[1]! * z[1]!)),
      },
      {
        kernel: brown,
        params: [{ owner: brown, name: 'variance' }],
        k:
          ([v]) =>
          (x, z) =>
            Math.sign(x[1]!) === Math.sign(z[1]!)
              ? v! * Math.min(Math.abs(x[1]!), Math.abs(z[1]!))
              : 0,
      },
    ];
    const store = ppl.getParamStore();
    for (const c of cases) {
      c.kernel.forward(X).dispose(); // creates the parameters
      const vars = c.params.map((p) => store.unconstrained(p.owner.fullName(p.name)));
      const { value, grads } = tf.variableGrads(() => objective(c.kernel), vars);
      const got = vars.flatMap((v) => Array.from((grads[v.name] as tf.Tensor).dataSync()));
      const u0 = vars.flatMap((v) => Array.from(v.dataSync()));
      const fd = finiteDiff((u) => ref(c.k(u.map(softplus))), u0, 1e-5);
      expect(got, c.kernel.name).toBeAllclose(fd, { rtol: 2e-3, atol: 2e-4 });
      // the objective itself matches too
      expect(value.dataSync()[0]).toBeCloseTo(ref(c.k(u0.map(softplus))), 3);
      tf.dispose([value, ...Object.values(grads)]);
    }
    tf.dispose([X, Z, Wt]);
  });
});
