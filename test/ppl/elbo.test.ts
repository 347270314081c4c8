import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { HalfCauchy } from '../../src/distributions/half_cauchy.js';
import { LogNormal } from '../../src/distributions/log_normal.js';
import { Normal } from '../../src/distributions/normal.js';
import { PARTICLE_PLATE } from '../../src/ppl/infer/elbo.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import {
  clearParamStore,
  constraints,
  param,
  getParamStore,
  plate,
  sample,
  seed,
  trace,
  TraceELBO,
  TraceMeanFieldELBO,
} from '../../src/ppl/index.js';

const logpdf = normalRef.logpdf as (x: number, m: number, s: number) => number;
const ys = [0.8, 1.3, -0.2, 2.1];

function model(y: tf.Tensor): void {
  const mu = sample('mu', new Normal(0, 2));
  plate('data', 4, () => sample('y', new Normal(mu, 1), { obs: y }));
}
function guide(): void {
  const loc = param('loc', 0.3);
  const scale = param('scale', 0.5, { constraint: constraints.positive });
  sample('mu', new Normal(loc, scale));
}

afterEach(() => clearParamStore());

describe('TraceELBO', () => {
  it('equals the hand-computed single-sample ELBO', () => {
    const y = tf.tensor1d(ys);
    const g = seed(guide, 5);
    const tr = trace(g).getTrace();
    const z = tr.value('mu').dataSync()[0] as number;
    tr.dispose();
    const hand =
      logpdf(z, 0, 2) + ys.reduce((a, v) => a + logpdf(v, z, 1), 0) - logpdf(z, 0.3, 0.5);
    const loss = new TraceELBO().loss(model, g, y);
    expect(loss).toBeCloseTo(-hand, 4);
    y.dispose();
  });

  it('averages particles to the closed-form expected ELBO', () => {
    const y = tf.tensor1d(ys);
    // E_q[ELBO] in closed form for q = N(m, s): E log N(mu;0,2) + sum E log N(y;mu,1) + H[q]
    const exact = (m: number, s: number): number =>
      -0.5 * Math.log(2 * Math.PI * 4) -
      (m * m + s * s) / 8 +
      ys.reduce((a, v) => a - 0.5 * Math.log(2 * Math.PI) - ((v - m) ** 2 + s * s) / 2, 0) +
      0.5 * Math.log(2 * Math.PI * Math.E * s * s);
    setSeed(2);
    const est = new TraceELBO({ numParticles: 400 }).loss(model, guide, y);
    clearSeed();
    // per-particle standard deviation is about 1.5: 400 particles give a standard error ~0.075
    expect(Math.abs(-est - exact(0.3, 0.5))).toBeLessThan(0.3);
    y.dispose();
  });

  it('loss() frees the tensor it reads (it leaked one per call)', () => {
    const y = tf.tensor1d(ys);
    const elbos = [new TraceELBO(), new TraceELBO({ numParticles: 3, vectorizeParticles: true })];
    for (const e of elbos) e.loss(model, guide, y); // the params exist, maxPlateNesting is found
    const before = tf.memory().numTensors;
    for (const e of elbos) for (let i = 0; i < 3; i++) e.loss(model, guide, y);
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it("has Pyro's pathwise gradient: log q at the sampled weight, not the analytic KL", () => {
    // The BNN of seed 002 without data: w ~ N(0, 1) prior, guide N(mu, softplus(rho)).
    // -ELBO = log q(w) - log p(w) with w = mu + sigma * eps, eps fixed by the seed, so
    //   d/dmu = w,   d/drho = (w * eps - 1 / sigma) * sigmoid(rho)
    // (Pyro 1.8.6 Trace_ELBO: entropy_term = log_prob of the rsample'd value). The analytic
    // KL would give d/dmu = mu and d/drho = (sigma - 1 / sigma) * sigmoid(rho) instead.
    const mu0 = [0.7, -1.2, 0.1];
    const rho0 = [-0.5, 0.3, 1.4];
    const bnnModel = (): void => {
      sample('w', new Normal(tf.zeros([3]), tf.ones([3])));
    };
    const bnnGuide = (): void => {
      const m = param('mu', () => tf.tensor1d(mu0));
      const s = tf.softplus(param('rho', () => tf.tensor1d(rho0)));
      sample('w', new Normal(m, s));
    };
    const g = seed(bnnGuide, 11);
    const tr = trace(g).getTrace();
    const w = Array.from(tr.value('w').dataSync());
    tr.dispose();
    const store = getParamStore();
    const { value, grads } = tf.variableGrads(
      () => new TraceELBO().differentiableLoss(bnnModel, g, []),
      store.variables(['mu', 'rho']),
    );
    const gMu = Array.from((grads[store.unconstrained('mu').name] as tf.Tensor).dataSync());
    const gRho = Array.from((grads[store.unconstrained('rho').name] as tf.Tensor).dataSync());
    tf.dispose([value, ...Object.values(grads)]);
    const sig = (x: number): number => 1 / (1 + Math.exp(-x));
    const wantRho = rho0.map((r, i) => {
      const sd = Math.log1p(Math.exp(r));
      const eps = ((w[i] as number) - (mu0[i] as number)) / sd;
      return ((w[i] as number) * eps - 1 / sd) * sig(r);
    });
    expect(gMu).toBeAllclose(w, { rtol: 1e-4, atol: 1e-5 });
    expect(gRho).toBeAllclose(wantRho, { rtol: 1e-4, atol: 1e-5 });
  });
});

describe('TraceMeanFieldELBO', () => {
  it('uses the analytic KL: log-likelihood at the sample minus KL(q || p)', () => {
    const y = tf.tensor1d(ys);
    const g = seed(guide, 9);
    const tr = trace(g).getTrace();
    const z = tr.value('mu').dataSync()[0] as number;
    tr.dispose();
    const kl = Math.log(2 / 0.5) + (0.5 ** 2 + 0.3 ** 2) / (2 * 4) - 0.5;
    const hand = ys.reduce((a, v) => a + logpdf(v, z, 1), 0) - kl;
    expect(new TraceMeanFieldELBO().loss(model, g, y)).toBeCloseTo(-hand, 4);
    y.dispose();
  });

  // Expanded/Expanded has a registered KL that defers to the inner pair: it threw
  // NotRegisteredError for (LogNormal, HalfCauchy) instead of estimating the term as Pyro does
  it('falls back to the Monte Carlo term where the pair has no analytic KL (plates, particles)', () => {
    const yv = [1, -2, 0.5, 3];
    const y = tf.tensor1d(yv);
    const [m0, s0] = [0.2, 0.7];
    const logHalfCauchy = (t: number): number =>
      Math.log(2 / (Math.PI * 5)) - Math.log(1 + (t / 5) ** 2);
    const logLogNormal = (t: number): number =>
      -Math.log(t) -
      Math.log(s0) -
      0.5 * Math.log(2 * Math.PI) -
      (Math.log(t) - m0) ** 2 / (2 * s0 * s0);
    // tau in the plate: one scale per datum; and a global tau under 3 vectorized particles
    const local = (yy: tf.Tensor): void => {
      plate('N', 4, () => {
        const tau = sample('tau', new HalfCauchy(5));
        sample('obs', new Normal(0, tau), { obs: yy });
      });
    };
    const localGuide = seed((): void => {
      plate('N', 4, () => sample('tau', new LogNormal(m0, s0)));
    }, 11);
    const global = (yy: tf.Tensor): void => {
      const tau = sample('tau', new HalfCauchy(5));
      plate('N', 4, () => sample('obs', new Normal(0, tau), { obs: yy }));
    };
    const globalGuide = seed((): void => {
      sample('tau', new LogNormal(m0, s0));
    }, 12);
    // the guide's draws, as the ELBO makes them
    const trL = trace(localGuide).getTrace();
    const tLocal = Array.from(trL.value('tau').dataSync());
    trL.dispose();
    const vec = (): void => {
      plate(PARTICLE_PLATE, 3, { dim: -2 }, () => globalGuide());
    };
    const trG = trace(vec).getTrace();
    const tGlobal = Array.from(trG.value('tau').dataSync());
    trG.dispose();
    expect(tGlobal.length).toBe(3);
    const perDraw = (t: number, obs: number[]): number =>
      logHalfCauchy(t) - logLogNormal(t) + obs.reduce((a, v) => a + logpdf(v, 0, t), 0);
    const handLocal = tLocal.reduce((a, t, i) => a + perDraw(t, [yv[i] as number]), 0);
    const handGlobal = tGlobal.reduce((a, t) => a + perDraw(t, yv), 0) / 3;
    const before = tf.memory().numTensors;
    expect(new TraceMeanFieldELBO().loss(local, localGuide, y)).toBeCloseTo(-handLocal, 3);
    const e = new TraceMeanFieldELBO({ numParticles: 3, vectorizeParticles: true });
    expect(e.loss(global, globalGuide, y)).toBeCloseTo(-handGlobal, 3);
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it('scales the KL of sites inside subsampled plates', () => {
    const m = (): void => {
      plate('p', 10, { subsample: [0, 1] }, () => sample('z', new Normal(tf.zeros([2]), 1)));
    };
    const q = (): void => {
      plate('p', 10, { subsample: [0, 1] }, () => sample('z', new Normal(tf.fill([2], 0.5), 2)));
    };
    const kl1 = Math.log(1 / 2) + (4 + 0.25) / 2 - 0.5;
    expect(new TraceMeanFieldELBO().loss(m, q)).toBeCloseTo(5 * 2 * kl1, 4);
  });
});
