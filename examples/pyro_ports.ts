/**
 * Pyro/NumPyro example programs written as their users write them, each run to a result printed
 * beside an independent reference (the faster ones are also regression tests in
 * `test/ppl/tutorial_models2.test.ts`):
 *
 * - `regression`: NumPyro's Bayesian regression with a hierarchical prior on the coefficients,
 *   `deterministic('mu', ...)`, NUTS, `Predictive` of the mean and its 90 % HPDI; reference: a
 *   grid over (tau, sigma) with the coefficients integrated out in closed form.
 * - `changepoint`: the coal-mining disasters (1851-1961) with a discrete switchpoint summed out
 *   under NUTS and drawn back by `inferDiscrete`; reference: the exact posterior (Gamma-Poisson
 *   conjugacy given each switchpoint). Slow: about 4 minutes on a loaded 2-core machine (the
 *   111 x 111 enumerated Poisson log-density is re-evaluated at every leapfrog step).
 * - `volatility`: NumPyro's stochastic volatility model (GaussianRandomWalk log-volatility,
 *   Student-t returns) on simulated returns; reference: the simulated log-volatility path.
 * - `horseshoe`: a sparse regression with a horseshoe prior fitted by SVI (`AutoNormal`,
 *   `TraceMeanFieldELBO`, 8 vectorized particles) and by NUTS.
 * - `vae`: a VAE in the language (`randomModule` encoder and decoder, a subsampled plate with an
 *   amortized guide) on binary data simulated from a 2-d latent; reference: the loss per datum
 *   before and after training, and the tensor count across steps.
 * - `gp`: Gaussian-process regression written by hand (`MultivariateNormal` with an RBF kernel
 *   matrix plus noise and jitter) with NUTS on the three hyperparameters, and SVI (`AutoNormal`);
 *   reference: the posterior medians on a 3-d grid over the log hyperparameters.
 *
 *   npx tsx examples/pyro_ports.ts [regression|changepoint|volatility|horseshoe|vae|gp ...]
 */
import * as tf from '@tensorflow/tfjs';
import { distributions as D, ppl, ready, setSeed } from '../src/index.js';

/** A seeded standard normal stream (the data are the same on every run). */
function normals(seed: number): () => number {
  let s = seed;
  const u = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Weighted means over grid points of log-weight `logw[n]` and values `vals[n]`. */
function gridMeans(logw: number[], vals: number[][]): number[] {
  const mx = logw.reduce((a, b) => Math.max(a, b), -Infinity);
  let z = 0;
  const out = new Array<number>(vals[0]?.length ?? 0).fill(0);
  logw.forEach((l, n) => {
    const w = Math.exp(l - mx);
    z += w;
    (vals[n] as number[]).forEach((v, k) => (out[k] = (out[k] as number) + w * v));
  });
  return out.map((v) => v / z);
}

/**
 * The median of coordinate `k` over grid points (log-weights `logw`, cells of width `h` in that
 * coordinate): the marginal's cumulative sum, interpolated linearly inside the crossing cell.
 */
function gridMedian(logw: number[], vals: number[][], k: number, h: number): number {
  const mx = logw.reduce((a, b) => Math.max(a, b), -Infinity);
  const marginal = new Map<number, number>();
  logw.forEach((l, n) => {
    const x = (vals[n] as number[])[k] as number;
    marginal.set(x, (marginal.get(x) ?? 0) + Math.exp(l - mx));
  });
  const cells = [...marginal].sort((a, b) => a[0] - b[0]);
  const total = cells.reduce((a, c) => a + c[1], 0);
  let acc = 0;
  for (const [x, w] of cells) {
    if (acc + w >= total / 2) return x - h / 2 + (h * (total / 2 - acc)) / w;
    acc += w;
  }
  return NaN;
}

/** Cholesky factor of a small symmetric positive-definite matrix (plain arrays). */
function chol(a: number[][]): number[][] {
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let t = (a[i] as number[])[j] as number;
      for (let k = 0; k < j; k++)
        t -= ((l[i] as number[])[k] as number) * ((l[j] as number[])[k] as number);
      (l[i] as number[])[j] = i === j ? Math.sqrt(t) : t / ((l[j] as number[])[j] as number);
    }
  }
  return l;
}

/** `mean ± MCSE` of element `i` of a site from an MCMC summary. */
function fmt(mcmc: ppl.MCMC, site: string, i = 0): string {
  const e = mcmc.summary()[site]?.elements[i];
  if (e === undefined) return '?';
  return `${e.mean.toFixed(3)} ± ${(e.sd / Math.sqrt(e.essBulk)).toFixed(3)}`;
}

async function regression(): Promise<void> {
  const gauss = normals(1);
  const N = 40;
  const bTrue = [1, -0.5, 0];
  const xa = Array.from({ length: N }, () => [gauss(), gauss(), gauss()]);
  const ya = xa.map((x) => x.reduce((a, v, j) => a + v * (bTrue[j] as number), 0) + 0.7 * gauss());
  const model = (X: tf.Tensor, y?: tf.Tensor): void => {
    const tau = ppl.sample('tau', new D.HalfNormal(1));
    const sigma = ppl.sample('sigma', new D.Exponential(1));
    const beta = ppl.sample('beta', new D.Normal(tf.zeros([3]), tau).toEvent(1));
    const mu = ppl.deterministic('mu', tf.sum(tf.mul(X, tf.expandDims(beta, -2)), -1));
    ppl.plate('data', X.shape[0] as number, () =>
      ppl.sample('obs', new D.Normal(mu, sigma), { obs: y }),
    );
  };
  const X = tf.tensor2d(xa);
  const y = tf.tensor1d(ya);
  const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
    numSamples: 1000,
    warmupSteps: 500,
    seed: 1,
    progressBar: false,
  });
  await mcmc.run(X, y);
  const samples = mcmc.getSamples();
  const pred = new ppl.Predictive(model, { posteriorSamples: samples, returnSites: ['mu'] }).call(
    X,
  );
  const muMean = tf.mean(pred.mu as tf.Tensor, 0);
  const band = ppl.hpdi(pred.mu as tf.Tensor, 0.9);
  const m0 = muMean.dataSync()[0] as number;
  const [lo, hi] = [band.dataSync()[0] as number, band.dataSync()[N] as number];
  // reference: p(tau, sigma | y) on a grid, beta | tau, sigma Gaussian in closed form
  const logw: number[] = [];
  const vals: number[][] = [];
  const G = 150;
  for (let i = 0; i < G; i++) {
    for (let j = 0; j < G; j++) {
      const lt = -6 + (7.5 * (i + 0.5)) / G;
      const ls = -3 + (3 * (j + 0.5)) / G;
      const [tau, sg] = [Math.exp(lt), Math.exp(ls)];
      const A = [0, 1, 2].map((a) =>
        [0, 1, 2].map(
          (b) =>
            xa.reduce((s, x) => s + (x[a] as number) * (x[b] as number), 0) / sg ** 2 +
            (a === b ? 1 / tau ** 2 : 0),
        ),
      );
      const L = chol(A);
      const rhs = [0, 1, 2].map(
        (a) => xa.reduce((s, x, n) => s + (x[a] as number) * (ya[n] as number), 0) / sg ** 2,
      );
      const z: number[] = [];
      for (let a = 0; a < 3; a++) {
        let t = rhs[a] as number;
        for (let k = 0; k < a; k++) t -= ((L[a] as number[])[k] as number) * (z[k] as number);
        z.push(t / ((L[a] as number[])[a] as number));
      }
      const m = [0, 0, 0];
      for (let a = 2; a >= 0; a--) {
        let t = z[a] as number;
        for (let k = a + 1; k < 3; k++) t -= ((L[k] as number[])[a] as number) * (m[k] as number);
        m[a] = t / ((L[a] as number[])[a] as number);
      }
      const yty = ya.reduce((s, v) => s + v * v, 0);
      const logdet = 2 * L.reduce((s, r, a) => s + Math.log(r[a] as number), 0);
      const lml =
        (-N / 2) * Math.log(2 * Math.PI * sg ** 2) -
        yty / (2 * sg ** 2) +
        0.5 * z.reduce((s, v) => s + v * v, 0) -
        0.5 * logdet -
        3 * lt;
      logw.push(lml - 0.5 * tau ** 2 + lt - sg + ls);
      const mu0 = (xa[0] as number[]).reduce((s, v, k) => s + v * (m[k] as number), 0);
      vals.push([tau, sg, m[0] as number, m[1] as number, mu0]);
    }
  }
  const r = gridMeans(logw, vals).map((v) => v.toFixed(3));
  console.log('regression (NUTS, 1000 draws; grid reference in brackets)');
  console.log(`  tau ${fmt(mcmc, 'tau')} [${r[0]}]   sigma ${fmt(mcmc, 'sigma')} [${r[1]}]`);
  console.log(
    `  beta[0] ${fmt(mcmc, 'beta', 0)} [${r[2]}]   beta[1] ${fmt(mcmc, 'beta', 1)} [${r[3]}]`,
  );
  console.log(
    `  Predictive mu[0] mean ${m0.toFixed(3)} [${r[4]}], 90 % HPDI [${lo.toFixed(3)}, ${hi.toFixed(3)}]`,
  );
  console.log(`  divergences ${mcmc.numDivergences}`);
  tf.dispose([X, y, muMean, band, ...Object.values(pred), ...Object.values(samples)]);
}

/** Coal-mining disasters per year, 1851-1961 (Jarrett 1979, as in PyMC's DisasterModel). */
const DISASTERS = [
  4, 5, 4, 0, 1, 4, 3, 4, 0, 6, 3, 3, 4, 0, 2, 6, 3, 3, 5, 4, 5, 3, 1, 4, 4, 1, 5, 5, 3, 4, 2, 5, 2,
  2, 3, 4, 2, 1, 3, 2, 2, 1, 1, 1, 1, 3, 0, 0, 1, 0, 1, 1, 0, 0, 3, 1, 0, 3, 2, 2, 0, 1, 1, 1, 0, 1,
  0, 1, 0, 0, 0, 2, 1, 0, 0, 0, 1, 1, 0, 2, 3, 3, 1, 1, 2, 1, 1, 1, 1, 2, 4, 2, 0, 0, 1, 4, 0, 0, 0,
  1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1,
];

async function changepoint(): Promise<void> {
  const model = (disasters: tf.Tensor): void => {
    const T = disasters.shape[0] as number;
    const switchpoint = ppl.sample('switchpoint', new D.Categorical({ logits: tf.zeros([T]) }));
    const early = ppl.sample('early_rate', new D.Exponential(1));
    const late = ppl.sample('late_rate', new D.Exponential(1));
    const years = tf.range(0, T, 1, 'int32');
    const rate = tf.where(tf.greaterEqual(tf.cast(switchpoint, 'int32'), years), early, late);
    ppl.plate('years', T, () => ppl.sample('disasters', new D.Poisson(rate), { obs: disasters }));
  };
  const y = tf.tensor1d(DISASTERS);
  const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
    numSamples: 600,
    warmupSteps: 400,
    seed: 4,
    progressBar: false,
  });
  await mcmc.run(y);
  const s = mcmc.getSamples();
  const pred = new ppl.Predictive(model, {
    posteriorSamples: s,
    inferDiscrete: true,
    returnSites: ['switchpoint'],
  }).call(y);
  const sw = Array.from((pred.switchpoint as tf.Tensor).dataSync());
  const swMean = sw.reduce((a, b) => a + b, 0) / sw.length;
  // exact: given the switchpoint, each rate is Gamma(1 + sum, 1 + n) a posteriori
  const logw: number[] = [];
  const vals: number[][] = [];
  const T = DISASTERS.length;
  const lgammaInt = (k: number): number => {
    let f = 0;
    for (let i = 2; i < k; i++) f += Math.log(i);
    return f;
  };
  for (let tau = 0; tau < T; tau++) {
    let [s1, s2] = [0, 0];
    DISASTERS.forEach((v, t) => (tau >= t ? (s1 += v) : (s2 += v)));
    const [n1, n2] = [tau + 1, T - tau - 1];
    logw.push(
      lgammaInt(1 + s1) -
        (1 + s1) * Math.log(1 + n1) +
        lgammaInt(1 + s2) -
        (1 + s2) * Math.log(1 + n2),
    );
    vals.push([(1 + s1) / (1 + n1), (1 + s2) / (1 + n2), tau]);
  }
  const r = gridMeans(logw, vals);
  console.log('changepoint (NUTS with the switchpoint summed out; exact in brackets)');
  console.log(
    `  early ${fmt(mcmc, 'early_rate')} [${(r[0] as number).toFixed(3)}]   late ${fmt(mcmc, 'late_rate')} [${(r[1] as number).toFixed(3)}]`,
  );
  console.log(
    `  switchpoint (inferDiscrete) mean ${(1851 + swMean).toFixed(2)} [${(1851 + (r[2] as number)).toFixed(2)}]`,
  );
  tf.dispose([y, ...Object.values(s), ...Object.values(pred)]);
}

async function volatility(): Promise<void> {
  const gauss = normals(7);
  const T = 100;
  const hTrue: number[] = [];
  let h = -2;
  const returns = Array.from({ length: T }, () => {
    h += 0.15 * gauss();
    hTrue.push(h);
    return Math.exp(h) * gauss();
  });
  const model = (r: tf.Tensor): void => {
    const step = ppl.sample('sigma', new D.Exponential(5));
    const s = ppl.sample('s', new D.GaussianRandomWalk(step, r.shape[0]));
    const nu = ppl.sample('nu', new D.Exponential(0.1));
    ppl.sample('r', new D.StudentT(nu, 0, tf.exp(tf.add(s, -2))).toEvent(1), { obs: r });
  };
  const r = tf.tensor1d(returns);
  const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
    numSamples: 500,
    warmupSteps: 500,
    seed: 6,
    progressBar: false,
  });
  await mcmc.run(r);
  const post = mcmc.summary().s?.elements ?? [];
  let inside = 0;
  post.forEach((e, t) => {
    const v = (hTrue[t] as number) + 2;
    if (v >= e.q5 && v <= e.q95) inside++;
  });
  console.log('stochastic volatility (NUTS, 500 draws)');
  console.log(
    `  sigma ${fmt(mcmc, 'sigma')} (simulated 0.15), nu ${fmt(mcmc, 'nu')} (simulated: normal returns)`,
  );
  console.log(
    `  simulated log-volatility inside the 90 % band at ${inside} of ${T} steps; divergences ${mcmc.numDivergences}`,
  );
  tf.dispose([r, ...Object.values(mcmc.getSamples())]);
}

async function horseshoe(): Promise<void> {
  const gauss = normals(5);
  const [N, P] = [60, 8];
  const bTrue = [2, -1.5, 0, 0, 0, 0, 0, 0];
  const xa = Array.from({ length: N }, () => Array.from({ length: P }, gauss));
  const ya = xa.map((x) => x.reduce((a, v, j) => a + v * (bTrue[j] as number), 0) + 0.5 * gauss());
  const model = (X: tf.Tensor, y?: tf.Tensor): void => {
    const tau = ppl.sample('tau', new D.HalfCauchy(1));
    const lam = ppl.plate('features', P, () => ppl.sample('lambda', new D.HalfCauchy(1)));
    const beta = ppl.plate('features', P, () =>
      ppl.sample('beta', new D.Normal(0, tf.mul(tau, lam))),
    );
    const sigma = ppl.sample('sigma', new D.HalfNormal(1));
    const mu = tf.sum(tf.mul(X, tf.expandDims(beta, -2)), -1);
    ppl.plate('data', N, () => ppl.sample('obs', new D.Normal(mu, sigma), { obs: y }));
  };
  const X = tf.tensor2d(xa);
  const y = tf.tensor1d(ya);
  const guide = new ppl.AutoNormal(model);
  const elbo = new ppl.TraceMeanFieldELBO({ numParticles: 8, vectorizeParticles: true });
  const svi = new ppl.SVI(model, guide, tf.train.adam(0.02), elbo);
  for (let i = 0; i < 2000; i++) svi.step(X, y);
  const med = guide.median();
  const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
    numSamples: 1000,
    warmupSteps: 1000,
    seed: 1,
    progressBar: false,
  });
  await mcmc.run(X, y);
  const sm = mcmc.summary();
  const f = (v: ArrayLike<number>): string => Array.from(v, (x) => x.toFixed(2)).join(' ');
  console.log('horseshoe regression (simulated beta 2 -1.5 0 0 0 0 0 0, sigma 0.5)');
  console.log(
    `  SVI median  beta ${f((med.beta as tf.Tensor).dataSync())}  sigma ${f((med.sigma as tf.Tensor).dataSync())}`,
  );
  console.log(
    `  NUTS mean   beta ${f((sm.beta?.elements ?? []).map((e) => e.mean))}  sigma ${f([sm.sigma?.elements[0]?.mean ?? NaN])} (${mcmc.numDivergences} divergences)`,
  );
  tf.dispose([X, y, ...Object.values(med), ...Object.values(mcmc.getSamples())]);
  ppl.clearParamStore();
}

function vae(): void {
  const gauss = normals(11);
  const [N, B, Dx, Dz] = [300, 50, 8, 2];
  const W = Array.from({ length: Dz }, () => Array.from({ length: Dx }, () => 3 * gauss()));
  const xa = Array.from({ length: N }, () => {
    const z = [gauss(), gauss()];
    return Array.from({ length: Dx }, (_, j) => {
      const logit =
        (z[0] as number) * ((W[0] as number[])[j] as number) +
        (z[1] as number) * ((W[1] as number[])[j] as number);
      return 0.5 + 0.5 * Math.tanh(gauss()) < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    });
  });
  const x = tf.tensor2d(xa);
  const dense = (inDim: number, out: number): tf.Sequential =>
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [inDim], units: 16, activation: 'tanh', name: 'h' }),
        tf.layers.dense({ units: out, name: 'out' }),
      ],
    });
  const enc = dense(Dx, 2 * Dz);
  const dec = dense(Dz, Dx);
  const model = (xs: tf.Tensor): void => {
    const decoder = ppl.randomModule('decoder', dec, {})(); // pyro.module: weights as params
    ppl.plate('data', N, { subsampleSize: B }, (idx) => {
      const z = ppl.sample('z', new D.Normal(tf.zeros([Dz]), 1).toEvent(1));
      ppl.sample('obs', new D.Bernoulli({ logits: decoder(z) }).toEvent(1), {
        obs: tf.gather(xs, idx),
      });
    });
  };
  const guide = (xs: tf.Tensor): void => {
    const encoder = ppl.randomModule('encoder', enc, {})();
    ppl.plate('data', N, { subsampleSize: B }, (idx) => {
      const [loc, logScale] = tf.split(encoder(tf.gather(xs, idx)), 2, -1) as [
        tf.Tensor,
        tf.Tensor,
      ];
      ppl.sample('z', new D.Normal(loc, tf.exp(logScale)).toEvent(1));
    });
  };
  const evalLoss = (): number => {
    let t = 0;
    for (let r = 0; r < 20; r++) t += new ppl.TraceELBO().loss(model, guide, x);
    return t / 20 / N;
  };
  const svi = new ppl.SVI(model, guide, tf.train.adam(0.01), new ppl.TraceELBO());
  const l0 = evalLoss();
  let n100 = 0;
  for (let i = 0; i < 1500; i++) {
    svi.step(x);
    if (i === 100) n100 = tf.memory().numTensors;
  }
  const n1500 = tf.memory().numTensors;
  console.log('VAE (randomModule encoder/decoder, subsampled plate of 50 of 300)');
  console.log(
    `  -ELBO per datum ${l0.toFixed(3)} -> ${evalLoss().toFixed(3)} (8 binary pixels: at most ${(8 * Math.LN2).toFixed(3)} for a fair coin)`,
  );
  console.log(`  live tensors after step 100: ${n100}, after step 1500: ${n1500}`);
  x.dispose();
  ppl.clearParamStore();
}

async function gp(): Promise<void> {
  const gauss = normals(5);
  const N = 15;
  const xa = Array.from({ length: N }, (_, i) => -3 + (6 * i) / (N - 1));
  const ya = xa.map((v) => Math.sin(v) + 0.2 * gauss());
  const rbf = (
    X: tf.Tensor,
    variance: tf.Tensor,
    length: tf.Tensor,
    noise: tf.Tensor,
  ): tf.Tensor => {
    const d = tf.div(tf.sub(tf.expandDims(X, 1), tf.expandDims(X, 0)), length);
    const k = tf.mul(variance, tf.exp(tf.mul(-0.5, tf.square(d))));
    return tf.add(k, tf.mul(tf.add(noise, 1e-5), tf.eye(X.shape[0] as number)));
  };
  // the autoguide sets itself up at its init values (Pyro's _setup_prototype), not at prior draws
  // of LogNormal(0, 10) (e^{±30}, where the kernel matrix is singular in float32): the validated
  // MultivariateNormal serves NUTS and SVI alike
  const model = (X: tf.Tensor, y?: tf.Tensor): void => {
    const variance = ppl.sample('kernel_var', new D.LogNormal(0, 10));
    const length = ppl.sample('kernel_length', new D.LogNormal(0, 10));
    const noise = ppl.sample('kernel_noise', new D.LogNormal(0, 10));
    const k = rbf(X, variance, length, noise);
    ppl.sample('y', new D.MultivariateNormal(tf.zeros([N]), { covarianceMatrix: k }), { obs: y });
  };
  const X = tf.tensor1d(xa);
  const y = tf.tensor1d(ya);
  const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
    numSamples: 1000,
    warmupSteps: 500,
    seed: 2,
    progressBar: false,
  });
  await mcmc.run(X, y);
  const s = mcmc.getSamples();
  const logMedian = (k: string): string => {
    const e = mcmc.summary()[k]?.elements[0];
    if (e === undefined) return '?';
    return `${Math.log(e.median).toFixed(3)} (90 %: ${Math.log(e.q5).toFixed(2)}, ${Math.log(e.q95).toFixed(2)})`;
  };
  // reference: the posterior of the log hyperparameters on a 60^3 grid. Its medians, not its
  // means: log noise has a long flat left tail (the jitter keeps noise -> 0 finite; about 3 % of
  // the mass spread down to the LogNormal(0, 10) prior's e^-30), which a chain started in
  // (-2, 2) seldom visits and whose extent moves the mean
  const G = 60;
  const ranges: [[number, number], [number, number], [number, number]] = [
    [-4, 5],
    [-3, 3],
    [-35, 3],
  ];
  const logw: number[] = [];
  const vals: number[][] = [];
  const at = (r: [number, number], i: number): number => r[0] + ((r[1] - r[0]) * (i + 0.5)) / G;
  for (let a = 0; a < G; a++) {
    for (let b = 0; b < G; b++) {
      for (let c = 0; c < G; c++) {
        const lx = [at(ranges[0], a), at(ranges[1], b), at(ranges[2], c)] as [
          number,
          number,
          number,
        ];
        const [v, l, nz] = lx.map(Math.exp) as [number, number, number];
        const K = xa.map((xi, i) =>
          xa.map((xj, j) => v * Math.exp(-0.5 * ((xi - xj) / l) ** 2) + (i === j ? nz + 1e-5 : 0)),
        );
        const L = chol(K);
        const z: number[] = [];
        for (let i = 0; i < N; i++) {
          let t = ya[i] as number;
          for (let k = 0; k < i; k++) t -= ((L[i] as number[])[k] as number) * (z[k] as number);
          z.push(t / ((L[i] as number[])[i] as number));
        }
        let lp =
          -0.5 * z.reduce((q, w) => q + w * w, 0) -
          L.reduce((q, r, i) => q + Math.log(r[i] as number), 0);
        for (const u of lx) lp -= 0.5 * (u / 10) ** 2; // LogNormal(0, 10) in log space
        logw.push(lp);
        vals.push(lx);
      }
    }
  }
  const r = ranges.map(([lo, hi], k) => gridMedian(logw, vals, k, (hi - lo) / G));
  ppl.clearParamStore();
  const guide = new ppl.AutoNormal(model);
  const svi = new ppl.SVI(model, guide, tf.train.adam(0.02), new ppl.TraceMeanFieldELBO());
  for (let i = 0; i < 1500; i++) svi.step(X, y);
  const med = guide.median();
  console.log(
    'GP regression, posterior median of each log hyperparameter (NUTS, 1000 draws; grid in brackets; SVI)',
  );
  for (const [i, k] of ['kernel_var', 'kernel_length', 'kernel_noise'].entries()) {
    const m = Math.log((med[k] as tf.Tensor).dataSync()[0] as number);
    console.log(
      `  log ${k} ${logMedian(k)} [${(r[i] as number).toFixed(3)}]   SVI ${m.toFixed(3)}`,
    );
  }
  console.log(`  divergences ${mcmc.numDivergences}`);
  tf.dispose([X, y, ...Object.values(s), ...Object.values(med)]);
  ppl.clearParamStore();
}

const SECTIONS: Record<string, () => void | Promise<void>> = {
  regression,
  changepoint,
  volatility,
  horseshoe,
  vae,
  gp,
};

async function main(): Promise<void> {
  await ready();
  setSeed(0);
  const wanted = process.argv.slice(2);
  for (const name of wanted.length > 0 ? wanted : Object.keys(SECTIONS)) {
    const run = SECTIONS[name];
    if (run === undefined)
      throw new Error(`unknown section '${name}': ${Object.keys(SECTIONS).join(', ')}`);
    const t0 = Date.now();
    await run();
    console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
}

void main();
