import { describe, it, expect, beforeEach } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ppl, distributions as D } from '../../../src/index.js';
import { expectBadInput, expectNoLeak } from '../../helpers.js';
import { add, eye, exactGP, gram, lcg, mvnLogPdf, rbf } from './reference.js';

const gp = ppl.gp;

/** -ELBO of a GP module (no priors: -log p(y)) as a number. */
function negLml(m: { model: () => unknown; guide: () => void }): number {
  return tf.tidy(
    () => new ppl.TraceMeanFieldELBO().differentiableLoss(m.model, m.guide, []).dataSync()[0],
  ) as number;
}

const rnd = lcg(11);
const N = 12;
const Xs = Array.from({ length: N }, (_, i) => [
  -2.5 + (5 * i) / (N - 1) + 0.1 * rnd(),
  2 * rnd() - 1,
]);
const ys = Xs.map((x) => Math.sin(2 * x[0]!) + 0.3 * x[1]! + 0.2 * (rnd() - 0.5));
const Xt = [
  [-1.1, 0.2],
  [0.35, -0.7],
  [2.2, 0.9],
];

describe('GPRegression', () => {
  beforeEach(() => ppl.clearParamStore());

  it('log marginal likelihood equals a float64 Cholesky and distributions.MultivariateNormal', () => {
    const ls = [0.8, 1.7];
    const X = tf.tensor2d(Xs);
    const y = tf.tensor1d(ys);
    const k = new gp.kernels.RBF({ inputDim: 2, variance: 1.3, lengthscale: ls });
    const gpr = new gp.models.GPRegression(X, y, k, { noise: 0.05, jitter: 0 });
    const lml = -negLml(gpr);
    const K = add(gram(rbf(1.3, ls), Xs), eye(N, 0.05));
    const ref = mvnLogPdf(ys, new Array<number>(N).fill(0), K);
    expect(lml).toBeCloseTo(ref, 3);
    const viaMvn = tf.tidy(() => {
      const cov = tf.add(k.forward(X), tf.mul(tf.eye(N), 0.05));
      return new D.MultivariateNormal(tf.zeros([N]), { covarianceMatrix: cov })
        .logProb(y)
        .dataSync()[0];
    }) as number;
    expect(lml).toBeCloseTo(viaMvn, 3);
    // the site is an MVN observe site named <name>.y
    const tr = ppl.trace(gpr.model).getTrace();
    const site = tr.get(`${gpr.name}.y`);
    expect(site?.isObserved).toBe(true);
    expect(site?.fn).toBeInstanceOf(D.MultivariateNormal);
    tr.dispose();
    gpr.dispose();
    tf.dispose([X, y]);
  });

  it('predictive mean and covariance equal the float64 closed form', () => {
    const ls = [0.6, 1.1];
    const X = tf.tensor2d(Xs);
    const y = tf.tensor1d(ys);
    const xt = tf.tensor2d(Xt);
    const gpr = new gp.models.GPRegression(
      X,
      y,
      new gp.kernels.RBF({ inputDim: 2, lengthscale: ls, variance: 0.9 }),
      {
        noise: 0.1,
        jitter: 0,
      },
    );
    const ref = exactGP(rbf(0.9, ls), Xs, ys, 0.1, Xt);
    gpr.forward(xt)[0].dispose();
    const [m, c] = gpr.forward(xt, { fullCov: true });
    expect(m).toBeAllclose(ref.mean, { atol: 2e-4 });
    expect(c).toBeAllclose(ref.cov.flat(), { atol: 2e-4 });
    const [m2, v2] = gpr.forward(xt, { noiseless: false });
    expect(m2).toBeAllclose(ref.mean, { atol: 2e-4 });
    expect(v2).toBeAllclose(
      ref.cov.map((r, i) => r[i]! + 0.1),
      { atol: 2e-4 },
    );
    tf.dispose([m, c, m2, v2]);
    // the pair is also named: mean and variance (or cov with fullCov)
    const named = gpr.forward(xt);
    expect(named.mean).toBe(named[0]);
    expect(named.variance).toBe(named[1]);
    expect(named.mean).toBeAllclose(ref.mean, { atol: 2e-4 });
    expect(named.variance).toBeAllclose(
      ref.cov.map((r, i) => r[i]!),
      { atol: 2e-4 },
    );
    tf.dispose(named);
    const full = gpr.forward(xt, { fullCov: true });
    expect(full.cov?.shape).toEqual([3, 3]);
    tf.dispose(full);
    expectNoLeak(() => gpr.forward(xt, { fullCov: true }));
    expectNoLeak(() => gpr.forward(xt));
    // a mean function: the GP of y - m(X) shifted by m(Xnew)
    const mf = (x: tf.Tensor2D): tf.Tensor => tf.mul(2, tf.slice(x, [0, 1], [-1, 1]));
    const gm = new gp.models.GPRegression(
      X,
      y,
      new gp.kernels.RBF({ inputDim: 2, lengthscale: ls, variance: 0.9 }),
      {
        noise: 0.1,
        jitter: 0,
        meanFunction: mf,
      },
    );
    const refm = exactGP(
      rbf(0.9, ls),
      Xs,
      ys.map((v, i) => v - 2 * Xs[i]![1]!),
      0.1,
      Xt,
    );
    const [mm] = gm.forward(xt);
    expect(mm).toBeAllclose(
      refm.mean.map((v, i) => v + 2 * Xt[i]![1]!),
      { atol: 2e-4 },
    );
    tf.dispose([mm, X, y, xt]);
  });

  it('several outputs y [B, N] share the kernel; no y gives the prior of f', () => {
    const ls = [0.8, 1.7];
    const X = tf.tensor2d(Xs);
    const ys2 = ys.map((v) => 0.5 * v - 0.1);
    const y = tf.tensor2d([ys, ys2]);
    const xt = tf.tensor2d(Xt);
    const gpr = new gp.models.GPRegression(
      X,
      y,
      new gp.kernels.RBF({ inputDim: 2, lengthscale: ls }),
      {
        noise: 0.1,
        jitter: 0,
      },
    );
    const K = add(gram(rbf(1, ls), Xs), eye(N, 0.1));
    const zero = new Array<number>(N).fill(0);
    expect(-negLml(gpr)).toBeCloseTo(mvnLogPdf(ys, zero, K) + mvnLogPdf(ys2, zero, K), 2);
    const [m, v] = gpr.forward(xt);
    expect(m.shape).toEqual([2, 3]);
    expect(v.shape).toEqual([2, 3]);
    const ref2 = exactGP(rbf(1, ls), Xs, ys2, 0.1, Xt);
    expect(tf.slice(m, [1, 0], [1, -1])).toBeAllclose(ref2.mean, { atol: 2e-4 });
    tf.dispose([m, v]);
    const prior = new gp.models.GPRegression(X, undefined, new gp.kernels.RBF({ inputDim: 2 }), {
      noise: 0.1,
    });
    const out = tf.tidy(() => {
      const [loc, fv] = prior.model() as [tf.Tensor, tf.Tensor];
      return [loc.clone(), fv.clone()];
    });
    expect(out[0]).toBeAllclose(zero);
    expect(out[1]).toBeAllclose(new Array<number>(N).fill(1.1 + 1e-6), { rtol: 1e-5 });
    tf.dispose([...out, X, y, xt]);
  });

  it('gradient of log p(y) w.r.t. the lengthscale matches finite differences', () => {
    const X = tf.tensor2d(Xs);
    const y = tf.tensor1d(ys);
    const k = new gp.kernels.RBF({
      inputDim: 2,
      lengthscale: [0.7, 1.4],
      variance: 1.1,
      name: 'gk',
    });
    const gpr = new gp.models.GPRegression(X, y, k, { noise: 0.2, jitter: 0 });
    negLml(gpr); // creates the parameters
    const u = ppl.getParamStore().unconstrained('gk.lengthscale');
    const { value, grads } = tf.variableGrads(
      () => new ppl.TraceMeanFieldELBO().differentiableLoss(gpr.model, gpr.guide, []),
      [u],
    );
    const g = Array.from((grads[u.name] as tf.Tensor).dataSync());
    const u0 = Array.from(u.dataSync());
    const sp = (t: number): number => Math.log1p(Math.exp(t));
    const nl = (uu: number[]): number =>
      -mvnLogPdf(
        ys,
        new Array<number>(N).fill(0),
        add(gram(rbf(1.1, uu.map(sp)), Xs), eye(N, 0.2)),
      );
    const fd = u0.map((_, i) => {
      const p = [...u0];
      const m = [...u0];
      p[i] = p[i]! + 1e-5;
      m[i] = m[i]! - 1e-5;
      return (nl(p) - nl(m)) / 2e-5;
    });
    expect(g).toBeAllclose(fd, { rtol: 2e-3, atol: 2e-3 });
    tf.dispose([value, ...Object.values(grads), X, y]);
  });

  it('type-II maximum likelihood on noisy sin data recovers the noise', () => {
    // 40 points of sin(x) + N(0, 0.1^2): the noise variance's MLE has relative sd ~ sqrt(2/N) =
    // 0.22, so a fitted noise within [0.004, 0.025] (true 0.01) is the sensible window
    const r = lcg(3);
    const n = 40;
    const xs = Array.from({ length: n }, () => 6 * r() - 3);
    const normal = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const yv = xs.map((x) => Math.sin(x) + 0.1 * normal());
    const X = tf.tensor1d(xs);
    const y = tf.tensor1d(yv);
    const k = new gp.kernels.RBF({ inputDim: 1 });
    const gpr = new gp.models.GPRegression(X, y, k, { noise: 0.5 });
    const losses = gp.train(gpr, { optimizer: tf.train.adam(0.05), numSteps: 250 });
    expect(losses).toHaveLength(250);
    expect(losses[249]!).toBeLessThan(losses[0]!);
    const noise = gpr.value('noise').dataSync()[0] as number;
    expect(noise).toBeGreaterThan(0.004);
    expect(noise).toBeLessThan(0.025);
    // the fit is at least as good as the true hyperparameters' evidence (float64)
    const ls = k.value('lengthscale').dataSync()[0] as number;
    const v = k.value('variance').dataSync()[0] as number;
    const fitted = mvnLogPdf(
      yv,
      new Array<number>(n).fill(0),
      add(
        gram(
          rbf(v, [ls]),
          xs.map((x) => [x]),
        ),
        eye(n, noise + 1e-6),
      ),
    );
    expect(-losses[249]!).toBeCloseTo(fitted, 1);
    const atTruth = mvnLogPdf(
      yv,
      new Array<number>(n).fill(0),
      add(
        gram(
          rbf(0.5, [1.5]),
          xs.map((x) => [x]),
        ),
        eye(n, 0.01),
      ),
    );
    expect(fitted).toBeGreaterThan(atTruth - 1);
    // memory: a training step and a prediction free what they make
    expectNoLeak(() => void gp.train(gpr, { numSteps: 1 }));
    tf.dispose([X, y]);
  });

  it('priors on hyperparameters: MAP by train, sample sites for MCMC', async () => {
    const X = tf.tensor2d(Xs);
    const y = tf.tensor1d(ys);
    const k = new gp.kernels.RBF({ inputDim: 2, lengthscale: [1, 1], name: 'pk' });
    const prior = new D.LogNormal(tf.zeros([2]), tf.ones([2]));
    k.setPrior('lengthscale', prior);
    const gpr = new gp.models.GPRegression(X, y, k, { noise: 0.1, name: 'pg' });
    const tr = ppl.trace(gpr.model).getTrace();
    expect(tr.get('pk.lengthscale')?.isObserved).toBe(false);
    expect(tr.get('pk.lengthscale')?.fn).toBe(prior);
    tr.dispose();
    const losses = gp.train(gpr, { optimizer: tf.train.adam(0.03), numSteps: 60 });
    expect(losses[59]!).toBeLessThan(losses[0]!);
    expect(ppl.getParamStore().has('pk.lengthscale_map')).toBe(true);
    // guide mode predicts with the MAP value
    gpr.setMode('guide');
    expect(k.value('lengthscale')).toBeAllclose(ppl.getParamStore().value('pk.lengthscale_map'));
    // NUTS over the lengthscales (noise and variance fixed)
    const mcmc = new ppl.MCMC(new ppl.NUTS(gpr.model), {
      numSamples: 40,
      warmupSteps: 40,
      seed: 1,
    });
    await mcmc.run();
    const s = mcmc.getSamples()['pk.lengthscale'] as tf.Tensor;
    expect(s.shape).toEqual([40, 2]);
    const vals = Array.from(s.dataSync());
    expect(vals.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    expect(new Set(vals).size).toBeGreaterThan(10);
    tf.dispose([X, y]);
    prior.dispose();
  }, 60_000);

  it("a hyperparameter's Normal autoguide (Pyro's autoguide(name, dist.Normal))", () => {
    const X = tf.tensor2d(Xs);
    const y = tf.tensor1d(ys);
    const k = new gp.kernels.RBF({ inputDim: 2, name: 'nk', lengthscale: 0.7 });
    const prior = new D.LogNormal(0, 1);
    k.setPrior('lengthscale', prior);
    k.autoguide('lengthscale', 'Normal');
    const gpr = new gp.models.GPRegression(X, y, k, { noise: 0.1 });
    const tr = ppl.trace(gpr.guide).getTrace();
    const site = tr.get('nk.lengthscale');
    expect(site?.fn).toBeInstanceOf(D.TransformedDistribution);
    tr.dispose();
    // starts at the current value: loc = log(0.7) in the unconstrained space of LogNormal
    expect(ppl.getParamStore().value('nk.lengthscale_loc')).toBeAllclose([Math.log(0.7)], {
      atol: 1e-6,
    });
    const losses = gp.train(gpr, { optimizer: tf.train.adam(0.02), numSteps: 20 });
    expect(losses.every((l) => Number.isFinite(l))).toBe(true);
    expect(ppl.getParamStore().has('nk.lengthscale_scale')).toBe(true);
    expect(() => new gp.kernels.RBF({ inputDim: 1 }).autoguide('lengthscale', 'Normal')).toThrow(
      /no prior/,
    );
    gpr.dispose();
    expect(ppl.getParamStore().has('nk.lengthscale_loc')).toBe(false);
    tf.dispose([X, y]);
    prior.dispose();
  });

  it('autoguides over the hyperparameter sites (AutoNormal by SVI)', () => {
    const X = tf.tensor2d(Xs);
    const y = tf.tensor1d(ys);
    const k = new gp.kernels.RBF({ inputDim: 2, name: 'ak' });
    const p1 = new D.LogNormal(0, 1);
    const p2 = new D.LogNormal(0, 1);
    k.setPrior('lengthscale', p1);
    k.setPrior('variance', p2);
    const gpr = new gp.models.GPRegression(X, y, k, { noise: 0.1 });
    const guide = new ppl.AutoNormal(gpr.model);
    const svi = new ppl.SVI(gpr.model, guide, tf.train.adam(0.05), new ppl.TraceMeanFieldELBO());
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) losses.push(svi.step());
    expect(losses.every((l) => Number.isFinite(l))).toBe(true);
    expect(ppl.getParamStore().names()).toContain('AutoNormal.locs.ak.lengthscale');
    const med = guide.median();
    const ls = med['ak.lengthscale'] as tf.Tensor;
    expect(ls.shape).toEqual([]);
    expect(ls.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose(Object.values(med));
    expectNoLeak(() => void svi.step());
    tf.dispose([X, y]);
    p1.dispose();
    p2.dispose();
  });

  it('bad inputs name the argument', async () => {
    const X = tf.tensor2d(Xs);
    const y = tf.tensor1d(ys);
    const y5 = tf.zeros([5]);
    const X3 = tf.zeros([2, 2, 2]);
    const Xn = tf.zeros([3, 3]);
    const lnPrior = new D.LogNormal(tf.zeros([3]), tf.ones([3]));
    const k = new gp.kernels.RBF({ inputDim: 2 });
    const gpr = new gp.models.GPRegression(X, y, k);
    const G = gp.models.GPRegression;
    const cases = [
      { call: 'y of the wrong length', run: () => new G(X, y5, k), arg: 'y' },
      { call: 'X of rank 3', run: () => new G(X3, y, k), arg: 'X' },
      { call: 'X with fewer features than the kernel', run: () => new G(y, y, k), arg: 'X' },
      { call: 'non-positive noise', run: () => new G(X, y, k, { noise: 0 }), arg: 'noise' },
      { call: 'not a kernel', run: () => new G(X, y, {} as never), arg: 'kernel' },
      { call: 'negative jitter', run: () => new G(X, y, k, { jitter: -1 }), arg: 'jitter' },
      {
        call: 'unknown option',
        run: () => new G(X, y, k, { mean_function: 1 } as never),
        arg: 'mean_function',
      },
      { call: 'Xnew with other features', run: () => gpr.forward(Xn), arg: 'Xnew' },
      {
        call: 'unknown forward option',
        run: () => gpr.forward(X, { full_cov: true } as never),
        arg: 'full_cov',
      },
      {
        call: 'prior of the wrong shape',
        run: () => k.setPrior('lengthscale', lnPrior),
        arg: 'prior',
      },
      { call: 'train of a non-model', run: () => gp.train({} as never), arg: 'gpModule' },
      { call: 'train numSteps', run: () => gp.train(gpr, { numSteps: -1 }), arg: 'numSteps' },
    ];
    for (const c of cases) await expectBadInput(c);
    tf.dispose([X, y, y5, X3, Xn]);
    lnPrior.dispose();
  });
});
