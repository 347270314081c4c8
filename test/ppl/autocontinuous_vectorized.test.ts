import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// mu ~ N(0, 1); z_i ~ N(mu, 1), x_i ~ N(z_i, 1) in a plate of 3: latent vector (mu, z_1, z_2, z_3)
const xs = [0.5, -1, 2];
const model = (x: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 1));
  ppl.plate('N', 3, () => {
    const z = ppl.sample('z', new D.Normal(mu, 1));
    ppl.sample('x', new D.Normal(z, 1), { obs: x });
  });
};
const LOG_2PI = Math.log(2 * Math.PI);

/** `log p(x, u)` of the model at `u = (mu, z_1, z_2, z_3)` (float64). */
function logJoint(u: number[]): number {
  const ln = (a: number, b: number): number => -0.5 * LOG_2PI - 0.5 * (a - b) ** 2;
  const mu = u[0] as number;
  let s = ln(mu, 0);
  xs.forEach((x, i) => (s += ln(u[i + 1] as number, mu) + ln(x, u[i + 1] as number)));
  return s;
}

/** Lower Cholesky factor of a small SPD matrix (float64). */
function chol(S: number[][]): number[][] {
  const n = S.length;
  const L = S.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let v = (S[i] as number[])[j] as number;
      for (let k = 0; k < j; k++)
        v -= ((L[i] as number[])[k] as number) * ((L[j] as number[])[k] as number);
      (L[i] as number[])[j] = i === j ? Math.sqrt(v) : v / ((L[j] as number[])[j] as number);
    }
  }
  return L;
}

/**
 * The exact `-ELBO` of a Gaussian guide `N(m, S)` for the model above, and the standard deviation
 * of one particle's estimate `log q(u) - log p(x, u)` (by 20000 float64 draws on the host).
 */
function gaussianReference(m: number[], S: number[][]): { negElbo: number; sd: number } {
  const c = (i: number, j: number): number => (S[i] as number[])[j] as number;
  const e = (a: number, b: number, va: number, vb: number, cab: number): number =>
    -0.5 * LOG_2PI - 0.5 * ((a - b) ** 2 + va + vb - 2 * cab);
  let elp = e(m[0] as number, 0, c(0, 0), 0, 0);
  xs.forEach((x, i) => {
    const k = i + 1;
    elp += e(m[k] as number, m[0] as number, c(k, k), c(0, 0), c(0, k));
    elp += e(x, m[k] as number, 0, c(k, k), 0);
  });
  const L = chol(S);
  const logDetS = 2 * L.reduce((a, row, i) => a + Math.log(row[i] as number), 0);
  const entropy = 0.5 * m.length * (1 + LOG_2PI) + 0.5 * logDetS;
  // per-particle spread, for the tolerance
  let seed = 12345;
  const unif = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed + 0.5) / 2147483648;
  };
  const gauss = (): number => Math.sqrt(-2 * Math.log(unif())) * Math.cos(2 * Math.PI * unif());
  const n = 20000;
  let s1 = 0;
  let s2 = 0;
  for (let t = 0; t < n; t++) {
    const eps = m.map(() => gauss());
    const u = m.map(
      (mi, i) => mi + (L[i] as number[]).reduce((a, l, k) => a + l * (eps[k] as number), 0),
    );
    const logQ =
      -0.5 * eps.reduce((a, v) => a + v * v, 0) - 0.5 * logDetS - 0.5 * m.length * LOG_2PI;
    const f = logQ - logJoint(u);
    s1 += f;
    s2 += f * f;
  }
  return { negElbo: -(elp + entropy), sd: Math.sqrt(s2 / n - (s1 / n) ** 2) };
}

const loc = [0.3, 0.5, -0.8, 1.5];

/** `-ELBO` by TraceELBO with `p` particles, vectorized or not (after the parameters exist). */
function negElbo(guide: ppl.AutoGuide<[tf.Tensor]>, p: number, vectorize: boolean): number {
  const x = tf.tensor1d(xs);
  const before = tf.memory().numTensors;
  const l = new ppl.TraceELBO({ numParticles: p, vectorizeParticles: vectorize }).loss(
    model,
    guide,
    x,
  );
  expect(tf.memory().numTensors).toBe(before);
  x.dispose();
  return l;
}

/** Create the guide's parameters (one untraced call). */
function setup(guide: ppl.AutoGuide<[tf.Tensor]>): void {
  const x = tf.tensor1d(xs);
  tf.tidy(() => {
    guide.call(x);
  });
  x.dispose();
}

function setParams(values: Record<string, number[] | number[][]>): void {
  const store = ppl.getParamStore();
  for (const [k, v] of Object.entries(values)) store.set(k, v, store.constraintOf(k));
}

// Pyro's AutoContinuous shapes each site of a draw made in a batch plate (the particles) by
// broadcasting its unconstrained shape against the draw's batch shape; before, z got [P, 1, 3]
// under particles at dim -2 and the model crossed particles with plate members (-ELBO 21043
// vectorized against 12.65 sequential for the same AutoDiagonalNormal).
describe('AutoContinuous guides with vectorized particles', { timeout: 300_000 }, () => {
  it('give plate sites the particle shape [P, N], not [P, 1, N]', () => {
    setSeed(0);
    const guide = new ppl.AutoDiagonalNormal(model);
    const x = tf.tensor1d(xs);
    const tr = ppl
      .trace((v: tf.Tensor) => ppl.plate('particles', 4, { dim: -2 }, () => guide.call(v)))
      .getTrace(x);
    expect(tr.get('mu')?.value?.shape).toEqual([4, 1]);
    expect(tr.get('z')?.value?.shape).toEqual([4, 3]);
    // one particle of the model's log-joint per draw: the replayed model sees [4, 3]
    const mt = ppl
      .trace(
        ppl.replay((v: tf.Tensor) => ppl.plate('particles', 4, { dim: -2 }, () => model(v)), {
          trace: tr,
        }),
      )
      .getTrace(x);
    expect(mt.get('x')?.fn?.batchShape).toEqual([4, 3]);
    tr.dispose();
    mt.dispose();
    x.dispose();
    guide.dispose();
  });

  const cases: [string, () => ppl.AutoGuide<[tf.Tensor]>, () => number[][]][] = [
    [
      'AutoDiagonalNormal',
      () => new ppl.AutoDiagonalNormal(model),
      () => {
        const sd = [0.5, 0.7, 0.9, 0.6];
        setParams({ 'AutoDiagonalNormal.loc': loc, 'AutoDiagonalNormal.scale': sd });
        return sd.map((si, i) => sd.map((_, j) => (i === j ? si * si : 0)));
      },
    ],
    [
      'AutoMultivariateNormal',
      () => new ppl.AutoMultivariateNormal(model),
      () => {
        const L = [
          [0.6, 0, 0, 0],
          [0.3, 0.5, 0, 0],
          [-0.2, 0.1, 0.7, 0],
          [0.4, -0.3, 0.2, 0.5],
        ];
        setParams({ 'AutoMultivariateNormal.loc': loc, 'AutoMultivariateNormal.scale_tril': L });
        return L.map((a) => L.map((b) => a.reduce((s, v, k) => s + v * (b[k] as number), 0)));
      },
    ],
    [
      'AutoLowRankMultivariateNormal',
      () => new ppl.AutoLowRankMultivariateNormal(model, { rank: 2 }),
      () => {
        const W = [
          [0.5, 0.1],
          [0.2, -0.4],
          [-0.3, 0.3],
          [0.1, 0.6],
        ];
        const d = [0.4, 0.5, 0.3, 0.6];
        const p = 'AutoLowRankMultivariateNormal';
        setParams({ [`${p}.loc`]: loc, [`${p}.cov_factor`]: W, [`${p}.scale`]: d });
        return W.map((a, i) =>
          W.map(
            (b, j) =>
              a.reduce((s, v, k) => s + v * (b[k] as number), 0) +
              (i === j ? (d[i] as number) ** 2 : 0),
          ),
        );
      },
    ],
  ];
  it.each(cases)('%s: vectorized -ELBO matches the closed form', (_, make, set) => {
    setSeed(1);
    const guide = make();
    setup(guide);
    const S = set();
    const ref = gaussianReference(loc, S);
    const p = 4000;
    const tol = 5 * (ref.sd / Math.sqrt(p)) + 1e-3;
    const vec = negElbo(guide, p, true);
    const seq = negElbo(guide, 500, false);
    expect(Math.abs(vec - ref.negElbo)).toBeLessThan(tol);
    expect(Math.abs(seq - ref.negElbo)).toBeLessThan(5 * (ref.sd / Math.sqrt(500)) + 1e-3);
    guide.dispose();
  });

  it('AutoLaplaceApproximation (a point mass while fitting): -ELBO = -log p(x, loc), exactly', () => {
    setSeed(2);
    const guide = new ppl.AutoLaplaceApproximation(model);
    setup(guide);
    setParams({ 'AutoLaplaceApproximation.loc': loc });
    const ref = -logJoint(loc);
    expect(negElbo(guide, 1, false)).toBeCloseTo(ref, 4);
    expect(negElbo(guide, 64, true)).toBeCloseTo(ref, 4);
    guide.dispose();
  });

  it('AutoIAFNormal: vectorized and sequential particles estimate the same -ELBO', () => {
    setSeed(3);
    const guide = new ppl.AutoIAFNormal(model, { hiddenDims: [8] });
    setup(guide);
    // the spread of one particle's estimate, from single-particle runs
    const singles = Array.from({ length: 60 }, () => negElbo(guide, 1, false));
    const mean = singles.reduce((a, b) => a + b, 0) / singles.length;
    const sd = Math.sqrt(singles.reduce((a, b) => a + (b - mean) ** 2, 0) / (singles.length - 1));
    const vec = negElbo(guide, 2000, true);
    const seq = negElbo(guide, 400, false);
    const se = Math.sqrt(sd ** 2 / 2000 + sd ** 2 / 400);
    expect(Math.abs(vec - seq)).toBeLessThan(5 * se + 1e-3);
    guide.dispose();
  });
});
