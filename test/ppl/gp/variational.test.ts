import { describe, it, expect, beforeEach } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ppl, setSeed } from '../../../src/index.js';
import { expectBadInput, expectNoLeak } from '../../helpers.js';
import {
  add,
  chol,
  eye,
  exactGP,
  gram,
  lcg,
  matmul,
  mvnLogPdf,
  rbf,
  solveL,
  spdSolve,
  transpose,
  type Mat,
} from './reference.js';

const gp = ppl.gp;

function elbo(m: { model: () => unknown; guide: () => void }): number {
  return -(tf.tidy(
    () => new ppl.TraceMeanFieldELBO().differentiableLoss(m.model, m.guide, []).dataSync()[0],
  ) as number);
}

const rnd = lcg(21);
const N = 9;
const Xs = Array.from({ length: N }, (_, i) => [-3 + (6 * i) / (N - 1) + 0.2 * rnd()]);
const ys = Xs.map((x) => Math.cos(x[0]!) + 0.2 * (rnd() - 0.5));
const Xt = [[-2.2], [0.1], [1.9]];
const V = 1.1;
const LS = 1.0;
const NOISE = 0.1;
const JIT = 1e-6;

/** The exact posterior of f(X): mean and covariance (float64). */
function exactPosterior(): { m: number[]; S: Mat; K: Mat } {
  const K = add(gram(rbf(V, [LS]), Xs), eye(N, JIT));
  const Ky = add(K, eye(N, NOISE));
  const m = matmul(
    K,
    spdSolve(
      Ky,
      ys.map((v) => [v]),
    ),
  ).map((r) => r[0]!);
  const S = add(K, matmul(K, spdSolve(Ky, K)), -1);
  return { m, S, K };
}

describe('VariationalGP and VariationalSparseGP', () => {
  beforeEach(() => {
    ppl.clearParamStore();
    setSeed(4);
  });

  for (const whiten of [false, true]) {
    it(`Gaussian likelihood: the ELBO at the exact posterior is log p(y) (whiten ${whiten})`, () => {
      const X = tf.tensor2d(Xs);
      const y = tf.tensor1d(ys);
      const k = new gp.kernels.RBF({ inputDim: 1, variance: V, lengthscale: LS });
      const vgp = new gp.models.VariationalGP(
        X,
        y,
        k,
        new gp.likelihoods.Gaussian({ variance: NOISE }),
        {
          whiten,
          jitter: JIT,
        },
      );
      const lml = mvnLogPdf(
        ys,
        new Array<number>(N).fill(0),
        add(gram(rbf(V, [LS]), Xs), eye(N, NOISE + JIT)),
      );
      expect(elbo(vgp)).toBeLessThan(lml - 0.1); // the prior as q: a strict lower bound
      const { m, S, K } = exactPosterior();
      let loc = m;
      let tril = chol(S);
      if (whiten) {
        const L = chol(K);
        loc = solveL(
          L,
          m.map((v) => [v]),
        ).map((r) => r[0]!);
        const A = solveL(L, tril); // L^-1 chol(S): a square root of the whitened covariance
        tril = chol(matmul(A, transpose(A)));
      }
      vgp.set('fLoc', loc);
      vgp.set('fScaleTril', tril);
      expect(elbo(vgp)).toBeCloseTo(lml, 1);
      // the predictive of f equals the exact GP's
      const ref = exactGP(rbf(V, [LS]), Xs, ys, NOISE + JIT, Xt);
      const xt = tf.tensor2d(Xt);
      const [mu, cov] = vgp.forward(xt, { fullCov: true });
      expect(mu).toBeAllclose(ref.mean, { atol: 2e-3 });
      expect(cov).toBeAllclose(ref.cov.flat(), { atol: 2e-3 });
      tf.dispose([mu, cov]);
      expectNoLeak(() => vgp.forward(xt));
      tf.dispose([X, y, xt]);
    });
  }

  it('VariationalSparseGP with the optimal q(u) attains the VFE (Titsias) bound', () => {
    const Xus = [[-2.5], [-0.8], [0.9], [2.6]];
    const k = rbf(V, [LS]);
    const Kuu = add(gram(k, Xus), eye(4, JIT));
    const Kuf = gram(k, Xus, Xs);
    const B = add(
      Kuu,
      matmul(Kuf, transpose(Kuf)).map((r) => r.map((v) => v / NOISE)),
    );
    const Su = matmul(Kuu, spdSolve(B, Kuu));
    const mu = matmul(
      Kuu,
      spdSolve(
        B,
        matmul(
          Kuf,
          ys.map((v) => [v / NOISE]),
        ),
      ),
    ).map((r) => r[0]!);
    const Qff = matmul(transpose(Kuf), spdSolve(Kuu, Kuf));
    const trace = Xs.reduce((s, x, i) => s + k(x, x) - Qff[i]![i]!, 0);
    const vfe =
      mvnLogPdf(ys, new Array<number>(N).fill(0), add(Qff, eye(N, NOISE))) - trace / (2 * NOISE);
    const X = tf.tensor2d(Xs);
    const y = tf.tensor1d(ys);
    const xu = tf.tensor2d(Xus);
    const vsgp = new gp.models.VariationalSparseGP(
      X,
      y,
      new gp.kernels.RBF({ inputDim: 1, variance: V, lengthscale: LS }),
      xu,
      new gp.likelihoods.Gaussian({ variance: NOISE }),
      { jitter: JIT },
    );
    vsgp.set('uLoc', mu);
    vsgp.set('uScaleTril', chol(Su));
    expect(elbo(vsgp)).toBeCloseTo(vfe, 1);
    // numData scales the expected log-likelihood E: with q(u) = N(0, I) (the initial q),
    // ELBO(numData = 2N) - ELBO(N) = E and 2 ELBO(N) - ELBO(2N) = -KL(N(0, I) || N(0, Kuu))
    const withData = (nd: number): number => {
      const m = new gp.models.VariationalSparseGP(
        X,
        y,
        new gp.kernels.RBF({ inputDim: 1, variance: V, lengthscale: LS }),
        xu,
        new gp.likelihoods.Gaussian({ variance: NOISE }),
        { jitter: JIT, numData: nd },
      );
      const e = elbo(m);
      m.dispose();
      return e;
    };
    const e1 = withData(N);
    const e2 = withData(2 * N);
    const Kinv = spdSolve(Kuu, eye(4));
    const Lu = chol(Kuu);
    const kl =
      0.5 * (Kinv.reduce((s, r, i) => s + r[i]!, 0) - 4) +
      Lu.reduce((s, r, i) => s + Math.log(r[i]!), 0);
    expect(2 * e1 - e2).toBeCloseTo(-kl, 2);
    tf.dispose([X, y, xu]);
  });

  it('binary classification on a separable toy: > 90% accuracy (VGP and VSGP)', () => {
    const r = lcg(9);
    const pts = Array.from({ length: 40 }, (_, i) => {
      const c = i % 2;
      return { x: [(c ? 1.2 : -1.2) + 0.6 * (r() - 0.5), (c ? 0.8 : -0.8) + 0.6 * (r() - 0.5)], c };
    });
    const X = tf.tensor2d(pts.map((p) => p.x));
    const y = tf.tensor1d(pts.map((p) => p.c));
    const test = [
      [1.1, 0.9],
      [-1.3, -0.6],
      [0.9, 0.5],
      [-0.8, -1.1],
    ];
    const xt = tf.tensor2d(test);
    const acc = (
      m: { forward: (x: tf.Tensor) => [tf.Tensor, tf.Tensor] },
      x: tf.Tensor,
      labels: number[],
    ): number => {
      const [f, v] = m.forward(x);
      const s = Array.from(f.dataSync());
      tf.dispose([f, v]);
      return s.filter((fi, i) => (fi > 0 ? 1 : 0) === labels[i]).length / labels.length;
    };
    const vgp = new gp.models.VariationalGP(
      X,
      y,
      new gp.kernels.RBF({ inputDim: 2 }),
      new gp.likelihoods.Bernoulli(),
      {
        whiten: true,
      },
    );
    const losses = gp.train(vgp, { optimizer: tf.train.adam(0.05), numSteps: 80 });
    expect(losses[79]!).toBeLessThan(losses[0]!);
    expect(
      acc(
        vgp,
        X,
        pts.map((p) => p.c),
      ),
    ).toBeGreaterThan(0.9);
    expect(acc(vgp, xt, [1, 0, 1, 0])).toBe(1);
    const xu = tf.tensor2d([
      [-1, -1],
      [1, 1],
      [0, 0],
      [-1, 1],
      [1, -1],
    ]);
    const vsgp = new gp.models.VariationalSparseGP(
      X,
      y,
      new gp.kernels.RBF({ inputDim: 2 }),
      xu,
      new gp.likelihoods.Bernoulli(),
      {
        whiten: true,
      },
    );
    gp.train(vsgp, { optimizer: tf.train.adam(0.05), numSteps: 80 });
    expect(
      acc(
        vsgp,
        X,
        pts.map((p) => p.c),
      ),
    ).toBeGreaterThan(0.9);
    expectNoLeak(() => void gp.train(vsgp, { numSteps: 1 }));
    tf.dispose([X, y, xt, xu]);
  }, 60_000);

  it('ppl.SVI with TraceELBO (Monte Carlo KL) trains a VGP classifier too', () => {
    const r = lcg(17);
    const pts = Array.from({ length: 30 }, (_, i) => {
      const c = i % 2;
      return { x: (c ? 1.5 : -1.5) + r() - 0.5, c };
    });
    const X = tf.tensor1d(pts.map((p) => p.x));
    const y = tf.tensor1d(pts.map((p) => p.c));
    const vgp = new gp.models.VariationalGP(
      X,
      y,
      new gp.kernels.RBF({ inputDim: 1 }),
      new gp.likelihoods.Bernoulli(),
      {
        whiten: true,
      },
    );
    const svi = new ppl.SVI(vgp.model, vgp.guide, tf.train.adam(0.05), new ppl.TraceELBO());
    const losses: number[] = [];
    for (let i = 0; i < 60; i++) losses.push(svi.step());
    expect(losses.every((l) => Number.isFinite(l))).toBe(true);
    const [f, v] = vgp.forward(X);
    const s = Array.from(f.dataSync());
    expect(s.filter((fi, i) => (fi > 0 ? 1 : 0) === pts[i]!.c).length / 30).toBeGreaterThan(0.9);
    tf.dispose([f, v, X, y]);
  });

  it('multi-class (softmax over 3 latent GPs) and Poisson counts', () => {
    const xs = Array.from({ length: 24 }, (_, i) => -3 + (6 * i) / 23);
    const cls = xs.map((x) => (x < -1 ? 0 : x < 1 ? 1 : 2));
    const X = tf.tensor1d(xs);
    const y = tf.tensor1d(cls);
    const mc = new gp.models.VariationalGP(
      X,
      y,
      new gp.kernels.RBF({ inputDim: 1 }),
      new gp.likelihoods.MultiClass({ numClasses: 3 }),
      {
        whiten: true,
      },
    );
    expect(mc.latentShape).toEqual([3]);
    gp.train(mc, { optimizer: tf.train.adam(0.05), numSteps: 80 });
    const [f, v] = mc.forward(X);
    expect(f.shape).toEqual([3, 24]);
    const pred = Array.from(tf.tidy(() => tf.argMax(f, 0)).dataSync());
    expect(pred.filter((p, i) => p === cls[i]).length / 24).toBeGreaterThan(0.8);
    tf.dispose([f, v]);
    // Poisson: counts growing with x; the latent log-rate follows
    const counts = xs.map((x) => Math.round(Math.exp(1 + 0.5 * x)));
    const yc = tf.tensor1d(counts);
    const pois = new gp.models.VariationalGP(
      X,
      yc,
      new gp.kernels.RBF({ inputDim: 1 }),
      new gp.likelihoods.Poisson(),
      {
        whiten: true,
      },
    );
    const losses = gp.train(pois, { optimizer: tf.train.adam(0.05), numSteps: 60 });
    expect(losses[59]!).toBeLessThan(losses[0]!);
    const [pf, pv] = pois.forward(tf.tensor1d([-2, 2]));
    const lr = Array.from(pf.dataSync());
    expect(lr[1]!).toBeGreaterThan(lr[0]!);
    tf.dispose([pf, pv, X, y, yc]);
  }, 60_000);

  it('bad inputs name the argument', async () => {
    const X = tf.tensor2d(Xs);
    const y = tf.tensor1d(ys);
    const k = new gp.kernels.RBF({ inputDim: 1 });
    const lik = new gp.likelihoods.Gaussian();
    const vgp = new gp.models.VariationalGP(X, y, k, lik);
    const VG = gp.models.VariationalGP;
    const cases = [
      { call: 'not a likelihood', run: () => new VG(X, y, k, {} as never), arg: 'likelihood' },
      {
        call: 'MultiClass with one class',
        run: () => new gp.likelihoods.MultiClass({ numClasses: 1 }),
        arg: 'numClasses',
      },
      {
        call: 'bad latentShape',
        run: () => new VG(X, y, k, lik, { latentShape: [0] }),
        arg: 'latentShape',
      },
      {
        call: 'whiten not boolean',
        run: () => new VG(X, y, k, lik, { whiten: 1 as never }),
        arg: 'whiten',
      },
      {
        call: 'noisy prediction',
        run: () => vgp.forward(X, { noiseless: false }),
        arg: 'noiseless',
      },
      {
        call: 'Gaussian variance <= 0',
        run: () => new gp.likelihoods.Gaussian({ variance: -1 }),
        arg: 'variance',
      },
      {
        call: 'numData',
        run: () => new gp.models.VariationalSparseGP(X, y, k, X, lik, { numData: 0 }),
        arg: 'numData',
      },
    ];
    for (const c of cases) await expectBadInput(c);
    tf.dispose([X, y]);
  });
});
