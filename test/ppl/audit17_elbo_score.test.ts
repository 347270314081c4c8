/**
 * Audit 17: the score-function gradient of `TraceELBO` (and `TraceMeanFieldELBO`) follows Pyro's
 * `Trace_ELBO` surrogate: a guide site without `rsample` contributes `log q(z) sg(cost)` and no
 * `-log q(z)` of its own (Pyro's `score_parts`: entropy term 0), with `cost` Rao-Blackwellized by
 * plates (`log_r.sum_to(cond_indep_stack)`). References: each draw's estimator in closed form
 * (float64, the draw read from the guide), the exact ELBO gradient by enumeration in float64, and
 * Monte Carlo means within 4 standard errors.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import geometricRef from '@stdlib/stats-base-dists-geometric';
import poissonRef from '@stdlib/stats-base-dists-poisson';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const logBern = (z: number, p: number): number => Math.log(z === 1 ? p : 1 - p);
const meanSe = (xs: number[]): { mean: number; se: number } => {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return { mean, se: sd / Math.sqrt(n) };
};

/** Gradients of `loss` in the named (unconstrained) params, flattened; nothing leaks. */
function lossGrads(loss: () => tf.Scalar, names: string[]): number[] {
  const vars = ppl.getParamStore().variables(names);
  const { value, grads } = tf.variableGrads(loss, vars);
  const out = vars.flatMap((v) => Array.from((grads[v.name] as tf.Tensor).dataSync()));
  value.dispose();
  tf.dispose(grads);
  return out;
}

// one Bernoulli latent: z ~ Bernoulli(0.3), x | z ~ N(2z - 1, 1), x = 0.4; q(z) = Bernoulli(sigmoid(t))
const X = 0.4;
const T0 = 0.35;
const bernModel = (x: tf.Tensor): void => {
  const z = ppl.sample('z', new D.Bernoulli(0.3));
  ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 2), 1), 1), { obs: x });
};
let drawn: number[] = [];
const bernGuide = (): void => {
  const t = ppl.param('t', tf.scalar(T0));
  const z = ppl.sample('z', new D.Bernoulli({ logits: t }));
  drawn = Array.from(z.dataSync());
};
const bernLogJoint = (z: number): number =>
  logBern(z, 0.3) + Math.log(normalRef.pdf(X, 2 * z - 1, 1));
/** Pyro's single-draw d(-ELBO)/dt: -(z - q) (log p(z, x) - log q(z)). */
const bernPyroGrad = (z: number, t: number): number => {
  const q = sigmoid(t);
  return -(z - q) * (bernLogJoint(z) - logBern(z, q));
};
/** The exact d(-ELBO)/dt by enumeration: -sum_z q(z) (z - q) (log p(z, x) - log q(z)). */
const bernExactGrad = (t: number): number => {
  const q = sigmoid(t);
  let g = 0;
  for (const z of [0, 1]) {
    const qz = z === 1 ? q : 1 - q;
    g += qz * (z - q) * (bernLogJoint(z) - logBern(z, q));
  }
  return -g;
};

// one Poisson latent: z ~ Poisson(2), x | z ~ N(z, 1.5), x = 3.2; q(z) = Poisson(exp(u))
const XP = 3.2;
const U0 = Math.log(2.6);
const poisModel = (x: tf.Tensor): void => {
  const z = ppl.sample('z', new D.Poisson(2));
  ppl.sample('x', new D.Normal(z, 1.5), { obs: x });
};
const poisGuide = (): void => {
  const u = ppl.param('u', tf.scalar(U0));
  const z = ppl.sample('z', new D.Poisson(tf.exp(u)));
  drawn = Array.from(z.dataSync());
};
const logNormal = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
const poisLogJoint = (z: number): number => poissonRef.logpmf(z, 2) + logNormal(XP, z, 1.5);
const poisPyroGrad = (z: number, u: number): number => {
  const lam = Math.exp(u);
  return -(z - lam) * (poisLogJoint(z) - poissonRef.logpmf(z, lam));
};
const poisExactGrad = (u: number): number => {
  const lam = Math.exp(u);
  let g = 0;
  for (let z = 0; z < 80; z++) {
    const lq = poissonRef.logpmf(z, lam);
    g += Math.exp(lq) * (z - lam) * (poisLogJoint(z) - lq);
  }
  return -g;
};

describe("TraceELBO's score-function gradient as Pyro's Trace_ELBO", { timeout: 120_000 }, () => {
  for (const [name, model, guide, obs, param, p0, pyroGrad, exactGrad] of [
    ['Bernoulli', bernModel, bernGuide, X, 't', T0, bernPyroGrad, bernExactGrad],
    ['Poisson', poisModel, poisGuide, XP, 'u', U0, poisPyroGrad, poisExactGrad],
  ] as const) {
    it(`${name} guide: every draw's gradient is Pyro's  -dlog q(z) * (log p - log q), no -dlog q term`, () => {
      const x = tf.scalar(obs);
      tf.tidy(() => guide());
      setSeed(3);
      const elbo = new ppl.TraceELBO();
      const before = tf.memory().numTensors;
      const seen = new Set<number>();
      for (let r = 0; r < 12; r++) {
        const [g] = lossGrads(() => elbo.differentiableLoss(model, guide, [x]), [param]);
        const z = drawn[0] as number;
        seen.add(z);
        const want = pyroGrad(z, p0);
        expect(Math.abs((g as number) - want), `draw ${r}, z = ${z}`).toBeLessThan(
          2e-5 * (1 + Math.abs(want)),
        );
      }
      expect(seen.size).toBeGreaterThan(1);
      expect(tf.memory().numTensors).toBe(before);
      // the loss's value is unchanged: -(log p(z, x) - log q(z)) of the draw
      const l = elbo.loss(model, guide, x);
      const z = drawn[0] as number;
      const lq =
        name === 'Bernoulli' ? logBern(z, sigmoid(p0)) : poissonRef.logpmf(z, Math.exp(p0));
      const lp = name === 'Bernoulli' ? bernLogJoint(z) : poisLogJoint(z);
      expect(l).toBeCloseTo(-(lp - lq), 4);
      x.dispose();
    });

    it(`${name} guide: the mean of many draws is the exact ELBO gradient (enumeration, float64)`, () => {
      const x = tf.scalar(obs);
      tf.tidy(() => guide());
      setSeed(11);
      // 40 batches of 100 vectorized particles: the particle plate Rao-Blackwellizes, so each
      // batch's gradient is the mean of 100 single-draw estimators
      const elbo = new ppl.TraceELBO({ numParticles: 100, vectorizeParticles: true });
      const gs: number[] = [];
      for (let r = 0; r < 40; r++) {
        gs.push(lossGrads(() => elbo.differentiableLoss(model, guide, [x]), [param])[0] as number);
      }
      const { mean, se } = meanSe(gs);
      const exact = exactGrad(p0);
      expect(Math.abs(mean - exact), `mean ${mean} se ${se} exact ${exact}`).toBeLessThan(
        4 * se + 1e-6,
      );
      // the old surrogate (with -dlog q) has the same mean but not the same draws: the per-draw
      // variance of Pyro's is what the sequential estimator gives
      x.dispose();
    });
  }

  it('vectorized particles: each particle is weighted by its own cost (the particle plate)', () => {
    const x = tf.scalar(X);
    tf.tidy(() => bernGuide());
    setSeed(5);
    const P = 6;
    const elbo = new ppl.TraceELBO({ numParticles: P, vectorizeParticles: true });
    const [g] = lossGrads(() => elbo.differentiableLoss(bernModel, bernGuide, [x]), ['t']);
    expect(drawn.length).toBe(P);
    const want = drawn.reduce((a, z) => a + bernPyroGrad(z, T0), 0) / P;
    expect(Math.abs((g as number) - want)).toBeLessThan(2e-5 * (1 + Math.abs(want)));
    x.dispose();
  });

  it('plates: member i is weighted by the global terms and its own only (Rao-Blackwellized as Pyro)', () => {
    // mu ~ N(0, 1), z_i ~ Bernoulli(0.4), x_i ~ N(mu + 2 z_i, 1); q: mu ~ N(m, 0.5), z_i ~ Bern(a_i)
    const xs = [0.3, 2.1, -0.8, 1.4];
    const N = xs.length;
    const a0 = [0.2, -0.5, 1.1, 0.0];
    const m0 = 0.4;
    let zs: number[] = [];
    let muDraw = 0;
    const model = (x: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('data', N, () => {
        const z = ppl.sample('z', new D.Bernoulli(tf.fill([N], 0.4)));
        ppl.sample('x', new D.Normal(tf.add(mu, tf.mul(z, 2)), 1), { obs: x });
      });
    };
    const guide = (): void => {
      const m = ppl.param('m', tf.scalar(m0));
      const a = ppl.param('a', tf.tensor1d(a0));
      const mu = ppl.sample('mu', new D.Normal(m, 0.5));
      muDraw = mu.dataSync()[0] as number;
      ppl.plate('data', N, () => {
        const z = ppl.sample('z', new D.Bernoulli({ logits: a }));
        zs = Array.from(z.dataSync());
      });
    };
    const x = tf.tensor1d(xs);
    tf.tidy(() => guide());
    setSeed(8);
    const elbo = new ppl.TraceELBO();
    const before = tf.memory().numTensors;
    for (let r = 0; r < 5; r++) {
      const g = lossGrads(() => elbo.differentiableLoss(model, guide, [x]), ['a']);
      const global =
        Math.log(normalRef.pdf(muDraw, 0, 1)) - Math.log(normalRef.pdf(muDraw, m0, 0.5));
      g.forEach((v, i) => {
        const z = zs[i] as number;
        const q = sigmoid(a0[i] as number);
        const own =
          logBern(z, 0.4) +
          Math.log(normalRef.pdf(xs[i] as number, muDraw + 2 * z, 1)) -
          logBern(z, q);
        const want = -(z - q) * (global + own);
        expect(Math.abs(v - want), `draw ${r} member ${i}`).toBeLessThan(
          5e-5 * (1 + Math.abs(want)),
        );
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('TraceMeanFieldELBO: analytic KL keeps its exact gradient; the score term has no -dlog q', () => {
    // Bernoulli/Bernoulli has an analytic KL: d(-ELBO)/dt = dKL/dt - (z - q)(log p(x|z) - KL)
    const x = tf.scalar(X);
    tf.tidy(() => bernGuide());
    setSeed(4);
    const elbo = new ppl.TraceMeanFieldELBO();
    const kl = (t: number): number => {
      const q = sigmoid(t);
      return q * Math.log(q / 0.3) + (1 - q) * Math.log((1 - q) / 0.7);
    };
    const dkl = (kl(T0 + 1e-5) - kl(T0 - 1e-5)) / 2e-5;
    for (let r = 0; r < 6; r++) {
      const [g] = lossGrads(() => elbo.differentiableLoss(bernModel, bernGuide, [x]), ['t']);
      const z = drawn[0] as number;
      const q = sigmoid(T0);
      const want = dkl - (z - q) * (Math.log(normalRef.pdf(X, 2 * z - 1, 1)) - kl(T0));
      expect(Math.abs((g as number) - want), `draw ${r}`).toBeLessThan(5e-5);
    }
    // Poisson/Geometric has none: the Monte Carlo term log p - log q, Pyro's surrogate as TraceELBO
    const geoModel = (xo: tf.Tensor): void => {
      const z = ppl.sample('z', new D.Geometric(0.35));
      ppl.sample('x', new D.Normal(z, 1.5), { obs: xo });
    };
    const xp = tf.scalar(XP);
    tf.tidy(() => poisGuide());
    const seen = new Set<number>();
    for (let r = 0; r < 6; r++) {
      const [g] = lossGrads(() => elbo.differentiableLoss(geoModel, poisGuide, [xp]), ['u']);
      const z = drawn[0] as number;
      seen.add(z);
      const lam = Math.exp(U0);
      const cost = geometricRef.logpmf(z, 0.35) + logNormal(XP, z, 1.5) - poissonRef.logpmf(z, lam);
      const want = -(z - lam) * cost;
      expect(Math.abs((g as number) - want), `draw ${r}`).toBeLessThan(2e-5 * (1 + Math.abs(want)));
    }
    expect(seen.size).toBeGreaterThan(1);
    x.dispose();
    xp.dispose();
  });
});
