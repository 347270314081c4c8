/**
 * Audit 17: ELBO values and gradients under plates with subsampling, `scale`, `mask`, `obsMask`,
 * vectorized and sequential particles, `differentiableLoss` versus `loss`, and `evaluateLoss`.
 * References: each draw's estimate and pathwise gradient in float64 from the draw read off the
 * guide (conjugate Gaussian model), closed-form Gaussian ELBOs and KLs, Monte Carlo means within
 * 4 standard errors.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const LOG2PI = Math.log(2 * Math.PI);
const logN = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG2PI;
const meanSe = (xs: number[]): { mean: number; se: number } => {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return { mean, se: sd / Math.sqrt(n) };
};

// mu ~ N(0, 1), x_i | mu ~ N(mu, SX) in plate 'data' of N; q(mu) = N(m, s)
const XS = [0.9, -0.4, 1.7, 0.3, 2.2, -1.0];
const N = XS.length;
const SX = 0.8;
const M0 = 0.35;
const S0 = 0.6;
interface Seen {
  mu: number[];
  idx: number[];
}
const seen: Seen = { mu: [], idx: [] };

const model =
  (opts: { subsample?: number; scale?: number; mask?: boolean[] } = {}) =>
  (x: tf.Tensor): void => {
    const mu = ppl.sample('mu', new D.Normal(0, 1));
    const body = (): void => {
      ppl.plate(
        'data',
        N,
        opts.subsample === undefined ? {} : { subsampleSize: opts.subsample },
        (ind) => {
          seen.idx = Array.from(ind.dataSync());
          const xb = tf.gather(x, tf.cast(ind, 'int32'));
          const site = (): void => void ppl.sample('x', new D.Normal(mu, SX), { obs: xb });
          if (opts.mask === undefined) site();
          else {
            const mk = tf.gather(tf.tensor1d(opts.mask.map(Number), 'bool'), tf.cast(ind, 'int32'));
            ppl.mask(site, mk)();
          }
        },
      );
    };
    if (opts.scale === undefined) body();
    else ppl.scale(body, opts.scale)();
  };
const guide = (): void => {
  const m = ppl.param('m', tf.scalar(M0));
  const s = ppl.param('s', tf.scalar(S0), { constraint: ppl.constraints.positive });
  const mu = ppl.sample('mu', new D.Normal(m, s));
  seen.mu = Array.from(mu.dataSync());
};
/** One draw's estimate: log p(mu) + w sum_{i in idx} log p(x_i | mu) - log q(mu). */
const drawElbo = (mu: number, idx: number[], w: number, keep: (i: number) => boolean): number =>
  logN(mu, 0, 1) +
  w * idx.reduce((a, i) => a + (keep(i) ? logN(XS[i] as number, mu, SX) : 0), 0) -
  logN(mu, M0, S0);
/** One draw's pathwise gradient of -estimate in (m, s): mu = m + s eps. */
const drawGrad = (
  mu: number,
  idx: number[],
  w: number,
  keep: (i: number) => boolean,
): [number, number] => {
  // d/dmu [log p(mu) + w sum log p(x_i|mu)]; -log q(mu) = log s + eps^2/2 + c: d/dm 0, d/ds 1/s
  const dmu =
    -mu + w * idx.reduce((a, i) => a + (keep(i) ? ((XS[i] as number) - mu) / SX ** 2 : 0), 0);
  const eps = (mu - M0) / S0;
  return [-dmu, -(dmu * eps + 1 / S0)];
};
/** The exact ELBO of q = N(m, s) (closed form), full data with weight w on kept members. */
const exactElbo = (w: number, keep: (i: number) => boolean): number => {
  let e =
    -0.5 * LOG2PI - 0.5 * (M0 ** 2 + S0 ** 2) + 0.5 * Math.log(2 * Math.PI * Math.E * S0 ** 2);
  for (let i = 0; i < N; i++) {
    if (!keep(i)) continue;
    e +=
      w *
      (-0.5 * LOG2PI - Math.log(SX) - (((XS[i] as number) - M0) ** 2 + S0 ** 2) / (2 * SX ** 2));
  }
  return e;
};
const all = (): boolean => true;

/** Gradients of `loss` in m and s (s through softplus' inverse: d/du = (1 - e^-s) d/ds). */
function grads(loss: () => tf.Scalar): [number, number, number] {
  const vars = ppl.getParamStore().variables(['m', 's']);
  const { value, grads: g } = tf.variableGrads(loss, vars);
  const out = vars.map((v) => (g[v.name] as tf.Tensor).dataSync()[0] as number);
  const val = value.dataSync()[0] as number;
  value.dispose();
  tf.dispose(g);
  return [out[0] as number, (out[1] as number) / (1 - Math.exp(-S0)), val];
}

describe('ELBO values and gradients against float64 references', { timeout: 120_000 }, () => {
  const cases: [string, Parameters<typeof model>[0], number, (i: number) => boolean][] = [
    ['full plate', {}, 1, all],
    ['subsampled plate (scale N/B)', { subsample: 2 }, N / 2, all],
    ['poutine.scale(0.3) around the plate', { scale: 0.3 }, 0.3, all],
    ['mask over the data', { mask: [true, false, true, true, false, true] }, 1, (i) => i % 3 !== 1],
    ['subsample with a scale', { subsample: 3, scale: 2 }, 2 * (N / 3), all],
  ];
  for (const [name, opts, w, keep] of cases) {
    it(`${name}: each draw's TraceELBO value and pathwise gradient`, () => {
      const x = tf.tensor1d(XS);
      tf.tidy(() => guide());
      setSeed(7);
      const elbo = new ppl.TraceELBO();
      const before = tf.memory().numTensors;
      for (let r = 0; r < 4; r++) {
        const [gm, gs, v] = grads(() => elbo.differentiableLoss(model(opts), guide, [x]));
        const mu = seen.mu[0] as number;
        const keepIdx = opts?.mask === undefined ? keep : (i: number) => keep(i);
        expect(v).toBeCloseTo(-drawElbo(mu, seen.idx, w, keepIdx), 3);
        const [wm, ws] = drawGrad(mu, seen.idx, w, keepIdx);
        expect(gm).toBeCloseTo(wm, 3);
        expect(gs).toBeCloseTo(ws, 3);
        if (opts?.subsample !== undefined) expect(seen.idx.length).toBe(opts.subsample);
      }
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });

    it(`${name}: the mean of many draws is the closed-form ELBO`, () => {
      const x = tf.tensor1d(XS);
      tf.tidy(() => guide());
      setSeed(9);
      // subsampling must be redrawn per estimate: sequential particles (one subsample each)
      const elbo = new ppl.TraceELBO();
      const vs: number[] = [];
      for (let r = 0; r < 300; r++) vs.push(-elbo.loss(model(opts), guide, x));
      const { mean, se } = meanSe(vs);
      const exact = exactElbo(
        opts?.subsample === undefined ? w : w * ((opts.subsample ?? N) / N),
        keep,
      );
      expect(Math.abs(mean - exact), `mean ${mean} se ${se} exact ${exact}`).toBeLessThan(4 * se);
      x.dispose();
    });
  }

  it('TraceMeanFieldELBO: each draw is sum log p(x|mu) - KL(q||p) exactly (subsampled, scaled)', () => {
    const x = tf.tensor1d(XS);
    tf.tidy(() => guide());
    setSeed(4);
    const kl = Math.log(1 / S0) + (S0 ** 2 + M0 ** 2) / 2 - 0.5;
    const elbo = new ppl.TraceMeanFieldELBO();
    for (let r = 0; r < 4; r++) {
      const v = elbo.loss(model({ subsample: 4 }), guide, x);
      const mu = seen.mu[0] as number;
      const lik = seen.idx.reduce((a, i) => a + logN(XS[i] as number, mu, SX), 0) * (N / 4);
      expect(v).toBeCloseTo(-(lik - kl), 3);
    }
    x.dispose();
  });

  it('obsMask: observed entries are scored, missing ones are latent imputed by the guide', () => {
    // y_i ~ N(mu, SX) with y_1, y_4 missing; the guide draws y_unobserved ~ N(0.5, 0.7) masked to
    // the missing entries (Pyro's obs_mask: the model scores only those of y_unobserved)
    const obsMask = [true, false, true, true, false, true];
    const missing = (i: number): boolean => !obsMask[i];
    const x = tf.tensor1d(XS);
    const mk = tf.tensor1d(obsMask.map(Number), 'bool');
    const notMk = tf.logicalNot(mk);
    let u: number[] = [];
    const m = (y: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('data', N, () => ppl.sample('y', new D.Normal(mu, SX), { obs: y, obsMask: mk }));
    };
    const g = (): void => {
      guide();
      ppl.plate('data', N, () => {
        const v = ppl.mask(
          () => ppl.sample('y_unobserved', new D.Normal(tf.fill([N], 0.5), 0.7)),
          notMk,
        )();
        u = Array.from(v.dataSync());
      });
    };
    tf.tidy(() => g());
    setSeed(12);
    const elbo = new ppl.TraceELBO();
    for (let r = 0; r < 3; r++) {
      const [gm, , v] = grads(() => elbo.differentiableLoss(m, g, [x]));
      const mu = seen.mu[0] as number;
      let want = logN(mu, 0, 1) - logN(mu, M0, S0);
      let dmu = -mu;
      for (let i = 0; i < N; i++) {
        const yi = missing(i) ? (u[i] as number) : (XS[i] as number);
        want += logN(yi, mu, SX);
        dmu += (yi - mu) / SX ** 2;
        if (missing(i)) want -= logN(yi, 0.5, 0.7);
      }
      expect(v).toBeCloseTo(-want, 3);
      expect(gm).toBeCloseTo(-dmu, 3);
    }
    tf.dispose([x, mk, notMk]);
  });

  it('vectorizeParticles: P = 1 vectorized and sequential give the same draw and loss', () => {
    const x = tf.tensor1d(XS);
    tf.tidy(() => guide());
    const out: number[][] = [];
    for (const v of [false, true]) {
      setSeed(21);
      // maxPlateNesting given: no trial run to find it (which, as Pyro's, draws from the stream)
      const e = new ppl.TraceELBO({ numParticles: 1, vectorizeParticles: v, maxPlateNesting: 1 });
      const l = e.loss(model(), guide, x);
      out.push([l, seen.mu[0] as number]);
    }
    expect(out[1]?.[1]).toBeCloseTo(out[0]?.[1] as number, 6);
    expect(out[1]?.[0]).toBeCloseTo(out[0]?.[0] as number, 4);
    x.dispose();
  });

  it('vectorizeParticles: P draws in one run average the per-draw estimates and gradients', () => {
    const x = tf.tensor1d(XS);
    tf.tidy(() => guide());
    setSeed(22);
    const P = 5;
    const e = new ppl.TraceELBO({ numParticles: P, vectorizeParticles: true });
    const [gm, gs, v] = grads(() => e.differentiableLoss(model(), guide, [x]));
    expect(seen.mu.length).toBe(P);
    const idx = [...Array(N).keys()];
    const wantV = -seen.mu.reduce((a, mu) => a + drawElbo(mu, idx, 1, all), 0) / P;
    const gsum = seen.mu.map((mu) => drawGrad(mu, idx, 1, all));
    expect(v).toBeCloseTo(wantV, 3);
    expect(gm).toBeCloseTo(gsum.reduce((a, g) => a + g[0], 0) / P, 3);
    expect(gs).toBeCloseTo(gsum.reduce((a, g) => a + g[1], 0) / P, 3);
    x.dispose();
  });

  it('numParticles > 1 (sequential) is the mean of that many one-particle estimates, same stream', () => {
    const x = tf.tensor1d(XS);
    tf.tidy(() => guide());
    setSeed(30);
    const lP = new ppl.TraceELBO({ numParticles: 4 }).loss(model(), guide, x);
    setSeed(30);
    const one = new ppl.TraceELBO();
    const ls = Array.from({ length: 4 }, () => one.loss(model(), guide, x));
    expect(lP).toBeCloseTo(ls.reduce((a, b) => a + b, 0) / 4, 4);
    // and its gradient the mean of the one-particle gradients
    setSeed(31);
    const gP = grads(() =>
      new ppl.TraceELBO({ numParticles: 3 }).differentiableLoss(model(), guide, [x]),
    );
    setSeed(31);
    const g1 = Array.from({ length: 3 }, () =>
      grads(() => one.differentiableLoss(model(), guide, [x])),
    );
    expect(gP[0]).toBeCloseTo(g1.reduce((a, g) => a + g[0], 0) / 3, 3);
    expect(gP[1]).toBeCloseTo(g1.reduce((a, g) => a + g[1], 0) / 3, 3);
    x.dispose();
  });

  it('differentiableLoss and loss give the same value for the same draw; reusing one estimator is stateless', () => {
    const x = tf.tensor1d(XS);
    tf.tidy(() => guide());
    for (const mk of [
      () => new ppl.TraceELBO(),
      () => new ppl.TraceMeanFieldELBO(),
      () => new ppl.TraceGraphELBO(),
      () => new ppl.RenyiELBO({ alpha: 0.5, numParticles: 3 }),
    ]) {
      const e = mk();
      setSeed(40);
      const a = e.loss(model({ subsample: 3 }), guide, x);
      setSeed(40);
      const d = tf.tidy(() =>
        e.differentiableLoss(model({ subsample: 3 }), guide, [x]).arraySync(),
      );
      expect(d).toBeCloseTo(a, 5);
      // the same estimator again, same seed: the same value (no state carried between calls)
      setSeed(40);
      expect(e.loss(model({ subsample: 3 }), guide, x)).toBeCloseTo(a, 6);
    }
    x.dispose();
  });

  it('RenyiELBO: each estimate is -1/(1-a) log mean w^(1-a) of its K draws (subsampled)', () => {
    const x = tf.tensor1d(XS);
    tf.tidy(() => guide());
    setSeed(50);
    const K = 4;
    const a = 0.3;
    const mus: number[] = [];
    const idxs: number[][] = [];
    const g = (): void => {
      guide();
      mus.push(seen.mu[0] as number);
    };
    const mod = (xx: tf.Tensor): void => {
      model({ subsample: 2 })(xx);
      idxs.push(seen.idx);
    };
    const l = new ppl.RenyiELBO({ alpha: a, numParticles: K }).loss(mod, g, x);
    const lw = mus.map((mu, k) => drawElbo(mu, idxs[k] as number[], N / 2, all) * (1 - a));
    const mx = Math.max(...lw);
    const lse = mx + Math.log(lw.reduce((s, v) => s + Math.exp(v - mx), 0));
    expect(l).toBeCloseTo(-(lse - Math.log(K)) / (1 - a), 3);
    x.dispose();
  });

  it('evaluateLoss moves neither the params, the optimizer nor the baselines', () => {
    const x = tf.tensor1d(XS);
    const bg = (): void => {
      guide();
      ppl.sample('b', new D.Bernoulli(0.4), {
        infer: { baseline: { useDecayingAvgBaseline: true } },
      });
    };
    const bm = (xx: tf.Tensor): void => {
      model()(xx);
      ppl.sample('b', new D.Bernoulli(0.5));
    };
    setSeed(60);
    const elbo = new ppl.TraceGraphELBO();
    const opt = tf.train.adam(0.05);
    const svi = new ppl.SVI(bm, bg, opt, elbo);
    svi.step(x);
    const read = (): number[] =>
      tf.tidy(() => ['m', 's'].map((n) => ppl.getParamStore().value(n).dataSync()[0] as number));
    const p0 = read();
    const b0 = JSON.stringify([...elbo.baselines]);
    const it0 = opt.iterations;
    for (let r = 0; r < 3; r++) expect(Number.isFinite(svi.evaluateLoss(x))).toBe(true);
    expect(read()).toEqual(p0);
    expect(JSON.stringify([...elbo.baselines])).toBe(b0);
    expect(opt.iterations).toBe(it0);
    expect(svi.stepCount).toBe(1);
    // and it is the estimator's own loss on the same draw
    setSeed(61);
    const e1 = svi.evaluateLoss(x);
    setSeed(61);
    expect(elbo.loss(bm, bg, x)).toBeCloseTo(e1, 6);
    x.dispose();
  });
  it('TraceGraphELBO and TraceELBO: the same draw gives the same value and pathwise gradient', () => {
    const x = tf.tensor1d(XS);
    tf.tidy(() => guide());
    const out: number[][] = [];
    for (const e of [new ppl.TraceELBO(), new ppl.TraceGraphELBO()]) {
      setSeed(70);
      out.push(grads(() => e.differentiableLoss(model({ subsample: 4 }), guide, [x])));
    }
    const mu = seen.mu[0] as number;
    const [wm, ws] = drawGrad(mu, seen.idx, N / 4, all);
    for (const g of out) {
      expect(g[0]).toBeCloseTo(wm, 3);
      expect(g[1]).toBeCloseTo(ws, 3);
      expect(g[2]).toBeCloseTo(-drawElbo(mu, seen.idx, N / 4, all), 3);
    }
    x.dispose();
  });

  it('mask(false) drops a site from value and gradient', () => {
    const x = tf.tensor1d(XS);
    tf.tidy(() => guide());
    setSeed(80);
    const none = [false, false, false, false, false, false];
    const [gm, gs, v] = grads(() =>
      new ppl.TraceELBO().differentiableLoss(model({ mask: none }), guide, [x]),
    );
    const mu = seen.mu[0] as number;
    const [wm, ws] = drawGrad(mu, [], 1, all);
    expect(v).toBeCloseTo(-(logN(mu, 0, 1) - logN(mu, M0, S0)), 4);
    expect(gm).toBeCloseTo(wm, 4);
    expect(gs).toBeCloseTo(ws, 4);
    x.dispose();
  });

  // audit 18: Pyro's score function is unscaled (ScoreParts.scale_and_mask: "the score_function
  // term should not be scaled or masked"); this test had s (z_i - q_i)(...), the scale twice
  it('score-function terms under a subsampled plate: member i gets (z_i - q_i)(global + s own_i)', () => {
    // z_i ~ Bernoulli(0.4), x_i ~ N(mu + 2 z_i, SX) in a plate of N subsampled to B; q(z_i) = Bern(a_i)
    const B = 3;
    const s = N / B;
    const a0 = [0.1, -0.4, 0.6, 0.0, 0.3, -0.2];
    let zs: number[] = [];
    const m = (xx: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('data', N, { subsampleSize: B }, (ind) => {
        seen.idx = Array.from(ind.dataSync());
        const z = ppl.sample('z', new D.Bernoulli(tf.fill([B], 0.4)));
        const xb = tf.gather(xx, tf.cast(ind, 'int32'));
        ppl.sample('x', new D.Normal(tf.add(mu, tf.mul(z, 2)), SX), { obs: xb });
      });
    };
    const g = (): void => {
      guide();
      const a = ppl.param('a', tf.tensor1d(a0));
      ppl.plate('data', N, { subsampleSize: B }, (ind) => {
        const ai = tf.gather(a, tf.cast(ind, 'int32'));
        zs = Array.from(ppl.sample('z', new D.Bernoulli({ logits: ai })).dataSync());
      });
    };
    const x = tf.tensor1d(XS);
    tf.tidy(() => g());
    setSeed(90);
    const e = new ppl.TraceELBO();
    for (let r = 0; r < 3; r++) {
      const vars = ppl.getParamStore().variables(['a']);
      const { value, grads: gr } = tf.variableGrads(() => e.differentiableLoss(m, g, [x]), vars);
      const ga = Array.from((gr[vars[0]?.name as string] as tf.Tensor).dataSync());
      value.dispose();
      tf.dispose(gr);
      const mu = seen.mu[0] as number;
      const global = logN(mu, 0, 1) - logN(mu, M0, S0);
      const want = new Array<number>(N).fill(0);
      seen.idx.forEach((i, b) => {
        const z = zs[b] as number;
        const q = 1 / (1 + Math.exp(-(a0[i] as number)));
        const own =
          Math.log(z === 1 ? 0.4 : 0.6) +
          logN(XS[i] as number, mu + 2 * z, SX) -
          Math.log(z === 1 ? q : 1 - q);
        want[i] = -(z - q) * (global + s * own);
      });
      ga.forEach((v, i) => expect(v, `draw ${r} member ${i}`).toBeCloseTo(want[i] as number, 3));
    }
    x.dispose();
  });
});
