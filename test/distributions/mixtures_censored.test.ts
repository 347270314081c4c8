/**
 * MixtureGeneral, MaskedMixture, the censored wrappers, BetaProportion, Gompertz and Levy beyond
 * the conformance table: normalisation by quadrature, gradients in the parameters and the value
 * against finite differences of float64 formulas, tail accuracy of the censored terms, shapes
 * (broadcasting, `expand`, empty batches), bad input, memory, and NUTS on a mixture and on a
 * right-censored survival model against exact posteriors.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import normalRef from '@stdlib/stats-base-dists-normal';
import tRef from '@stdlib/stats-base-dists-t';
import lognormalRef from '@stdlib/stats-base-dists-lognormal';
import weibullRef from '@stdlib/stats-base-dists-weibull';
import poissonRef from '@stdlib/stats-base-dists-poisson';
import erf from '@stdlib/math-base-special-erf';
import { ArgumentError, distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { expectBadInput, expectNoLeak, finiteDiff } from '../helpers.js';
import { simpson } from './cases_mixtures_censored.js';

type Fn = (...args: number[]) => number;
const fn = (mod: object, name: string): Fn => (mod as Record<string, Fn>)[name] as Fn;
const erfFn = erf as unknown as (x: number) => number;

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** Simpson's rule over `[a, b]` of `exp(dist.logProb(x))`, the density evaluated in one call. */
function integrateDensity(
  dist: D.Distribution,
  a: number,
  b: number,
  n = 4000,
  map?: { x: (t: number) => number; dx: (t: number) => number },
): number {
  const h = (b - a) / n;
  const ts = Array.from({ length: n + 1 }, (_, i) => a + i * h);
  const xs = map === undefined ? ts : ts.map(map.x);
  const p = expectNoLeak(() => dist.prob(xs));
  let s = 0;
  ts.forEach((t, i) => {
    const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
    s += w * (p[i] as number) * (map === undefined ? 1 : map.dx(t));
  });
  return (s * h) / 3;
}

describe('normalisation: the new continuous densities integrate to 1', () => {
  it('Gompertz, BetaProportion, MixtureGeneral (Normal, Gumbel, StudentT)', () => {
    for (const [eta, rate] of [
      [0.5, 2],
      [3, 0.7],
      [0.05, 1.5],
    ] as const) {
      const g = new D.Gompertz(eta, rate);
      expect(integrateDensity(g, 0, 60 / rate, 20000)).toBeAllclose(1, { atol: 1e-4 });
      g.dispose();
    }
    const bp = new D.BetaProportion(0.3, 10);
    expect(integrateDensity(bp, 0, 1)).toBeAllclose(1, { atol: 1e-4 });
    bp.dispose();
    const parts = [new D.Normal(-1, 0.5), new D.Gumbel(2, 1.5), new D.StudentT(3, 0, 1)];
    const mix = new D.Categorical({ probs: [0.2, 0.5, 0.3] });
    const m = new D.MixtureGeneral(mix, parts);
    // x = tan(t): the Student-t tails are integrated exactly
    const tan = { x: Math.tan, dx: (t: number) => 1 / Math.cos(t) ** 2 };
    expect(integrateDensity(m, -1.5707, 1.5707, 8000, tan)).toBeAllclose(1, { atol: 2e-4 });
    [...parts, mix].forEach((p) => p.dispose());
  });

  it('Levy: the integral over a log grid plus the closed-form tail is 1', () => {
    for (const [loc, scale] of [
      [0, 2],
      [1, 0.5],
    ] as const) {
      const l = new D.Levy(loc, scale);
      const hi = 12;
      const map = { x: (t: number) => loc + Math.exp(t), dx: (t: number) => Math.exp(t) };
      const body = integrateDensity(l, -8, hi, 8000, map);
      const tail = erfFn(Math.sqrt(scale / (2 * Math.exp(hi)))); // S(loc + e^hi)
      expect(body + tail).toBeAllclose(1, { atol: 2e-4 });
      l.dispose();
    }
  });
});

/** `tf.grads` of `sum(f(...ps))` at `theta`, as numbers. */
function grads(theta: number[], f: (ps: tf.Tensor[]) => tf.Tensor): number[] {
  const before = tf.memory().numTensors;
  const ps = theta.map((t) => tf.scalar(t));
  const gs = tf.grads((...xs: tf.Tensor[]) => tf.sum(f(xs)))(ps);
  const out = gs.map((g) => g.dataSync()[0] as number);
  tf.dispose([...gs, ...ps]);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

describe('gradients of logProb in the parameters and the value match finite differences', () => {
  it('Gompertz (eta, b, x) and Levy (loc, scale, x)', () => {
    const gz = ([e, b, x]: number[]): number =>
      Math.log(e! * b!) + b! * x! - e! * Math.expm1(b! * x!);
    const th = [0.8, 1.3, 0.6];
    expect(grads(th, ([e, b, x]) => new D.Gompertz(e!, b!).logProb(x!))).toBeAllclose(
      finiteDiff(gz, th, 1e-5),
      { rtol: 2e-3, atol: 1e-4 },
    );
    const lv = ([m, c, x]: number[]): number =>
      0.5 * Math.log(c! / (2 * Math.PI)) - 1.5 * Math.log(x! - m!) - c! / (2 * (x! - m!));
    const tl = [0.3, 1.2, 2.1];
    expect(grads(tl, ([m, c, x]) => new D.Levy(m!, c!).logProb(x!))).toBeAllclose(
      finiteDiff(lv, tl, 1e-5),
      { rtol: 2e-3, atol: 1e-4 },
    );
  });

  it('MixtureGeneral in a component location, the mixing logits and the value', () => {
    const f = ([mu, l0, l1, x]: number[]): number => {
      const z = Math.exp(l0!) + Math.exp(l1!);
      return Math.log(
        (Math.exp(l0!) / z) * fn(normalRef, 'pdf')(x!, mu!, 0.7) +
          (Math.exp(l1!) / z) * fn(tRef, 'pdf')(x! - 1, 4),
      );
    };
    const th = [-0.4, 0.3, -0.2, 0.5];
    const g = grads(th, ([mu, l0, l1, x]) => {
      const mix = new D.Categorical({ logits: tf.stack([l0!, l1!]) });
      return new D.MixtureGeneral(mix, [new D.Normal(mu!, 0.7), new D.StudentT(4, 1, 1)]).logProb(
        x!,
      );
    });
    expect(g).toBeAllclose(finiteDiff(f, th, 1e-5), { rtol: 2e-3, atol: 1e-4 });
  });

  it('censored terms: d/dtheta of log S, log F and log(F(u) - F(l)) of the base', () => {
    // right-censored Normal at y = 1.4: log S(y); left-censored at y = -0.3: log F(y)
    const rs = ([m, s]: number[]): number => Math.log1p(-fn(normalRef, 'cdf')(1.4, m!, s!));
    const ls = ([m, s]: number[]): number => Math.log(fn(normalRef, 'cdf')(-0.3, m!, s!));
    const th = [0.2, 0.9];
    expect(
      grads(th, ([m, s]) =>
        new D.RightCensoredDistribution(new D.Normal(m!, s!), true).logProb(1.4),
      ),
    ).toBeAllclose(finiteDiff(rs, th, 1e-5), { rtol: 2e-3, atol: 1e-4 });
    expect(
      grads(th, ([m, s]) => new D.LeftCensoredDistribution(new D.Normal(m!, s!), 1).logProb(-0.3)),
    ).toBeAllclose(finiteDiff(ls, th, 1e-5), { rtol: 2e-3, atol: 1e-4 });
    // interval (0.8, 2.1] of a Weibull(scale, concentration)
    const iv = ([sc, k]: number[]): number =>
      Math.log(fn(weibullRef, 'cdf')(2.1, k!, sc!) - fn(weibullRef, 'cdf')(0.8, k!, sc!));
    const tw = [1.6, 2.2];
    expect(
      grads(tw, ([sc, k]) =>
        new D.IntervalCensoredDistribution(new D.Weibull(sc!, k!), false, false).logProb([
          0.8, 2.1,
        ]),
      ),
    ).toBeAllclose(finiteDiff(iv, tw, 1e-5), { rtol: 2e-3, atol: 1e-4 });
  });

  it('a right-censored 0 under a LogNormal (density 0 there) keeps finite, exact gradients', () => {
    // entries: censored at 0 (log S(0) = 0, no gradient), observed at 1.3 (log f)
    const f = ([m, s]: number[]): number => fn(lognormalRef, 'logpdf')(1.3, m!, s!);
    const th = [0.1, 0.8];
    const g = grads(th, ([m, s]) =>
      new D.RightCensoredDistribution(new D.LogNormal(m!, s!), [true, false]).logProb([0, 1.3]),
    );
    expect(g.every(Number.isFinite)).toBe(true);
    expect(g).toBeAllclose(finiteDiff(f, th, 1e-5), { rtol: 2e-3, atol: 1e-4 });
  });
});

describe('censored terms are accurate in the tails (log space, no 1 - F cancellation)', () => {
  it('Normal: right-censored at 10, left-censored at -10, an interval in the upper tail', () => {
    const base = new D.Normal(0, 1);
    const logcdf = fn(normalRef, 'logcdf');
    const rc = new D.RightCensoredDistribution(base, true);
    const lc = new D.LeftCensoredDistribution(base, true);
    // log Phi(-10) = -53.23...; 1 - Phi(10) is 0 in float32
    expect(expectNoLeak(() => rc.logProb(10))).toBeAllclose([logcdf(-10, 0, 1)], { rtol: 1e-4 });
    expect(expectNoLeak(() => lc.logProb(-10))).toBeAllclose([logcdf(-10, 0, 1)], { rtol: 1e-4 });
    const ic = new D.IntervalCensoredDistribution(base, false, false);
    const cdf = fn(normalRef, 'cdf');
    // log(S(8) - S(9)) = log(Phi(-8) - Phi(-9)) = -35.0...
    const ref = Math.log(cdf(-8, 0, 1) - cdf(-9, 0, 1));
    expect(expectNoLeak(() => ic.logProb([8, 9]))).toBeAllclose([ref], { rtol: 1e-4 });
    // doubly censored (outside (-1, 1]): log(Phi(-1) + 1 - Phi(1))
    const both = new D.IntervalCensoredDistribution(base, true, true);
    expect(expectNoLeak(() => both.logProb([-1, 1]))).toBeAllclose([Math.log(2 * cdf(-1, 0, 1))], {
      rtol: 1e-5,
    });
    [rc, lc, ic, both, base].forEach((x) => x.dispose());
  });

  it('Gompertz log-survival and Levy survival keep their digits far out', () => {
    const g = new D.Gompertz(0.5, 2);
    // log S(x) = -eta expm1(b x); at x = 1e-6 it is -1e-6 (1 - F would round to 0 in log)
    expect(expectNoLeak(() => g.logSurvival(1e-6))).toBeAllclose([-0.5 * Math.expm1(2e-6)], {
      rtol: 1e-4,
    });
    expect(expectNoLeak(() => tf.tidy(() => g.icdf(g.cdf(0.37))))).toBeAllclose([0.37], {
      rtol: 1e-4,
    });
    const l = new D.Levy(0, 2);
    // S(1e6) = erf(sqrt(1e-6)) = 1.1284e-3
    expect(expectNoLeak(() => l.survival(1e6))).toBeAllclose([erfFn(Math.sqrt(1e-6))], {
      rtol: 1e-5,
    });
    expect(expectNoLeak(() => tf.tidy(() => l.icdf(l.cdf(3.7))))).toBeAllclose([3.7], {
      rtol: 1e-4,
    });
    expect(expectNoLeak(() => l.logProb(-1))).toEqual([-Infinity]);
    g.dispose();
    l.dispose();
  });
});

describe('shapes: broadcasting, expand, empty batches', () => {
  it('MixtureGeneral broadcasts component and mixing batch shapes; expand and sample([0])', () => {
    const a = new D.Normal(tf.zeros([3, 1]), 1);
    const b = new D.Laplace(tf.tensor1d([1, 2]), 0.5);
    const mix = new D.Categorical({ probs: [0.4, 0.6] });
    const m = new D.MixtureGeneral(mix, [a, b]);
    expect(m.batchShape).toEqual([3, 2]);
    const x = m.sample([4], 5);
    expect(x.shape).toEqual([4, 3, 2]);
    const lp = m.logProb(x);
    expect(lp.shape).toEqual([4, 3, 2]);
    expect(Array.from(lp.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, lp]);
    const e = m.expand([5, 3, 2]);
    expect(expectNoLeak(() => e.sample([2])).length).toBe(60);
    expect(expectNoLeak(() => m.sample([0]))).toEqual([]);
    expect(expectNoLeak(() => m.mean()).length).toBe(6);
    [a, b, mix].forEach((t) => t.dispose());
  });

  it('MixtureGeneral of multivariate components (event [2]) against a float64 formula', () => {
    const c0 = new D.MultivariateNormalDiag([0, 1], [1, 0.5]);
    const c1 = new D.MultivariateNormal([1, -1], {
      covarianceMatrix: [
        [1, 0.5],
        [0.5, 2],
      ],
    });
    const mix = new D.Categorical({ probs: [0.25, 0.75] });
    const m = new D.MixtureGeneral(mix, [c0, c1]);
    expect(m.eventShape).toEqual([2]);
    const pt = [0.3, -0.4];
    const p0 = fn(normalRef, 'pdf')(pt[0]!, 0, 1) * fn(normalRef, 'pdf')(pt[1]!, 1, 0.5);
    // bivariate normal with det = 1.75, inverse [[2, -0.5], [-0.5, 1]] / 1.75
    const [u, v] = [pt[0]! - 1, pt[1]! + 1];
    const q = (2 * u * u - u * v + v * v) / 1.75;
    const p1 = Math.exp(-q / 2) / (2 * Math.PI * Math.sqrt(1.75));
    expect(expectNoLeak(() => m.logProb(pt))).toBeAllclose([Math.log(0.25 * p0 + 0.75 * p1)], {
      rtol: 1e-5,
    });
    // total variance per coordinate
    const mean = [0.75, 0.25 - 0.75];
    const varRef = [
      0.25 * (1 + 0) + 0.75 * (1 + 1) - mean[0]! ** 2,
      0.25 * (0.25 + 1) + 0.75 * (2 + 1) - mean[1]! ** 2,
    ];
    expect(expectNoLeak(() => m.mean())).toBeAllclose(mean, { rtol: 1e-5 });
    expect(expectNoLeak(() => m.variance())).toBeAllclose(varRef, { rtol: 1e-5 });
    expect(expectNoLeak(() => m.sample([3])).length).toBe(6);
    expect(() => m.cdf(pt)).toThrow();
    [c0, c1, mix].forEach((t) => t.dispose());
  });

  it('MaskedMixture and the censored wrappers broadcast masks/indicators with the batch', () => {
    const mm = new D.MaskedMixture(
      tf.tensor2d([[true], [false]], [2, 1], 'bool'),
      new D.Normal(0, 1),
      new D.Normal([5, 6, 7], 1),
    );
    expect(mm.batchShape).toEqual([2, 3]);
    const s = expectNoLeak(() => mm.sample([], 1));
    expect(s.slice(0, 3).every((v) => v > 1.5)).toBe(true); // row 0 follows component1
    const rc = new D.RightCensoredDistribution(new D.Exponential([1, 2, 3]), [[true], [false]]);
    expect(rc.batchShape).toEqual([2, 3]);
    const lp = expectNoLeak(() => tf.tidy(() => rc.logProb(tf.fill([2, 3], 0.5))));
    expect(lp).toBeAllclose(
      [-0.5, -1, -1.5, Math.log(1) - 0.5, Math.log(2) - 1, Math.log(3) - 1.5],
      {
        rtol: 1e-5,
      },
    );
    const e = rc.expand([4, 2, 3]);
    expect(expectNoLeak(() => e.sample([2])).length).toBe(48);
    expect(expectNoLeak(() => tf.tidy(() => e.logProb(tf.ones([4, 2, 3])))).length).toBe(24);
    const ic = new D.IntervalCensoredDistribution(new D.Exponential(1), [false, true], false);
    expect(expectNoLeak(() => ic.sample([0]))).toEqual([]);
    const pair = ic.sample([3]);
    expect(pair.shape).toEqual([3, 2, 2]);
    pair.dispose();
    // empty batch
    const empty = new D.LeftCensoredDistribution(new D.Normal(tf.zeros([0]), 1), true);
    expect(expectNoLeak(() => empty.sample([2]))).toEqual([]);
    expect(expectNoLeak(() => tf.tidy(() => empty.logProb(tf.zeros([0]))))).toEqual([]);
  });
});

describe('bad input is refused before any work, naming the argument', () => {
  it.each<[string, () => unknown, string | RegExp]>([
    [
      'a value of the wrong shape (MixtureGeneral)',
      () =>
        tf.tidy(() =>
          new D.MixtureGeneral(new D.Categorical({ probs: [0.5, 0.5] }), [
            new D.Normal([0, 1], 1),
            new D.Normal(0, 1),
          ]).logProb([1, 2, 3]),
        ),
      'value',
    ],
    [
      'an interval value without its pair',
      () =>
        tf.tidy(() => new D.IntervalCensoredDistribution(new D.Normal(0, 1)).logProb([1, 2, 3])),
      'value',
    ],
    [
      'components not in an array',
      () =>
        tf.tidy(() => {
          void new D.MixtureGeneral(new D.Categorical({ probs: [1] }), new D.Normal(0, 1) as never);
        }),
      'componentDistributions',
    ],
    [
      'a numeric mask for MaskedMixture',
      () =>
        tf.tidy(() => {
          void new D.MaskedMixture([1, 0] as never, new D.Normal(0, 1), new D.Normal(1, 1));
        }),
      'mask',
    ],
    [
      'a base without a CDF',
      () =>
        tf.tidy(() => {
          void new D.RightCensoredDistribution(new D.VonMises(0, 1) as never, true);
        }),
      'base',
    ],
    ['BetaProportion with a NaN mean', () => new D.BetaProportion(NaN, 2), 'mean'],
  ])('%s', async (call, run, arg) => {
    await expectBadInput({ call, run, arg });
  });

  it('a disposed indicator tensor is refused by name', () => {
    const c = tf.tensor1d([1, 0], 'bool');
    c.dispose();
    const base = new D.Normal(0, 1);
    expect(() => new D.RightCensoredDistribution(base, c)).toThrow(ArgumentError);
    base.dispose();
  });

  it('dispose frees the tensors the wrappers made (masks and indicators from arrays)', () => {
    const base = new D.Normal(0, 1);
    const before = tf.memory().numTensors;
    const ds = [
      new D.MaskedMixture([true, false], base, base),
      new D.LeftCensoredDistribution(base, [0, 1]),
      new D.IntervalCensoredDistribution(base, [true], [false]),
      new D.BetaProportion([0.2, 0.5], 3),
    ];
    ds.forEach((x) => x.dispose());
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });
});

describe('discrete bases, wrapped bases and ppl sites', () => {
  it('a right/left-censored Poisson scores P(Y > y) / P(Y <= y) (against @stdlib)', () => {
    const cdf = fn(poissonRef, 'cdf');
    const pmf = fn(poissonRef, 'logpmf');
    const rc = new D.RightCensoredDistribution(new D.Poisson(3), [true, false]);
    expect(expectNoLeak(() => rc.logProb([2, 2]))).toBeAllclose(
      [Math.log1p(-cdf(2, 3)), pmf(2, 3)],
      { rtol: 1e-5 },
    );
    // an expanded base forwards icdf to a Poisson, which has none: the safe input falls back
    const base = new D.Poisson(3);
    const lc = new D.LeftCensoredDistribution(base.expand([2]), [true, false]);
    expect(expectNoLeak(() => lc.logProb([2, 4]))).toBeAllclose([Math.log(cdf(2, 3)), pmf(4, 3)], {
      rtol: 1e-5,
    });
    [rc, lc, base].forEach((x) => x.dispose());
  });

  it('an interval-censored site with open bounds (+-Infinity) scores log F(u) and log S(l)', () => {
    const model = (): void => {
      const r = ppl.sample('r', new D.Gamma(2, 1));
      ppl.sample(
        'y',
        new D.IntervalCensoredDistribution(
          new D.Exponential(r),
          [true, false, false],
          [false, true, false],
        ),
        {
          obs: tf.tensor2d([
            [-Infinity, 2],
            [1, Infinity],
            [0.5, 1.5],
          ]),
        },
      );
    };
    const r = tf.scalar(0.7);
    const tr = ppl.trace(ppl.condition(model, { r })).getTrace();
    const y = tr.nodes.get('y');
    const lp = y?.fn?.logProb(y.value as tf.Tensor);
    r.dispose();
    const ref = [Math.log(-Math.expm1(-1.4)), -0.7, Math.log(Math.exp(-0.35) - Math.exp(-1.05))];
    expect(Array.from(lp?.dataSync() ?? [])).toBeAllclose(ref, { rtol: 1e-5 });
    lp?.dispose();
  });

  it('MixtureGeneral.componentLogProbs: log w_k + log p_k(x), its logsumexp is logProb', () => {
    const mix = new D.Categorical({ probs: [0.3, 0.7] });
    const a = new D.Normal(-1, 0.5);
    const b = new D.StudentT(3, 2, 1);
    const m = new D.MixtureGeneral(mix, [a, b]);
    const c = expectNoLeak(() => m.componentLogProbs([0.5, 2]));
    const ref = [0.5, 2].flatMap((x) => [
      Math.log(0.3) + fn(normalRef, 'logpdf')(x, -1, 0.5),
      Math.log(0.7) + fn(tRef, 'logpdf')(x - 2, 3),
    ]);
    expect(c).toBeAllclose(ref, { rtol: 1e-5 });
    const lp = expectNoLeak(() => m.logProb([0.5, 2]));
    expect(lp).toBeAllclose(
      [0, 1].map((i) => Math.log(Math.exp(ref[2 * i]!) + Math.exp(ref[2 * i + 1]!))),
      { rtol: 1e-5 },
    );
    [mix, a, b].forEach((x) => x.dispose());
  });
});

describe('mixture supports', () => {
  it('shared when the components have one support, else the reals (never a wrong interval)', () => {
    const mix = new D.Categorical({ probs: [0.5, 0.5] });
    const g = [new D.Gamma(2, 1), new D.LogNormal(0, 1)];
    const u = [new D.Uniform(0, 1), new D.Uniform(2, 3)];
    const same = [new D.Uniform(0, 1), new D.Uniform(0, 1)];
    expect(new D.MixtureGeneral(mix, g).support.name).toBe('positive');
    expect(new D.MixtureGeneral(mix, u).support.name).toBe('real');
    expect(new D.MixtureGeneral(mix, same).support.name).toBe(same[0]!.support.name);
    expect(new D.MaskedMixture(true, u[0]!, u[1]!).support.name).toBe('real');
    expect(new D.MaskedMixture(true, g[0]!, g[1]!).support.name).toBe('positive');
    [mix, ...g, ...u, ...same].forEach((x) => x.dispose());
  });
});

describe('KL registry', () => {
  it('BetaProportion dispatches to the Beta KL: KL(BP(0.3, 10) || Beta(2, 2)) = KL(Beta(3, 7) || Beta(2, 2))', () => {
    const p = new D.BetaProportion(0.3, 10);
    const q = new D.Beta(2, 2);
    // float64: log B(2,2) - log B(3,7) + (3-2) psi(3) + (7-2) psi(7) + (2-3+2-7) psi(10)
    const psi = (n: number): number =>
      -0.5772156649015329 +
      Array.from({ length: n - 1 }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
    const lbeta = (a: number, b: number): number => {
      const lf = (n: number): number =>
        Array.from({ length: n - 1 }, (_, i) => Math.log(i + 1)).reduce((x, y) => x + y, 0);
      return lf(a) + lf(b) - lf(a + b);
    };
    const ref = lbeta(2, 2) - lbeta(3, 7) + psi(3) + 5 * psi(7) - 6 * psi(10);
    expect(expectNoLeak(() => D.klDivergence(p, q))).toBeAllclose([ref], { rtol: 1e-5 });
    p.dispose();
    q.dispose();
  });
});

describe('usage in models: NUTS against exact posteriors', () => {
  it('MixtureGeneral likelihood: the posterior mean of a component location matches quadrature', async () => {
    // y ~ 0.4 N(mu, 1) + 0.6 t_4(3, 1), mu ~ N(0, 10^2)
    const ys = [-1.9, -0.7, -1.2, 3.1, 2.6, 3.4, -1.5, 2.9, 4.2, 3.0, -0.9, 2.2];
    const y = tf.tensor1d(ys);
    const model = (obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 10));
      const mix = new D.Categorical({ probs: [0.4, 0.6] });
      ppl.plate('data', ys.length, () => {
        ppl.sample('y', new D.MixtureGeneral(mix, [new D.Normal(mu, 1), new D.StudentT(4, 3, 1)]), {
          obs,
        });
      });
    };
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 400,
      warmupSteps: 300,
      progressBar: false,
      seed: 11,
    });
    await mcmc.run(y);
    const logPost = (mu: number): number =>
      fn(normalRef, 'logpdf')(mu, 0, 10) +
      ys.reduce(
        (a, v) =>
          a + Math.log(0.4 * fn(normalRef, 'pdf')(v, mu, 1) + 0.6 * fn(tRef, 'pdf')(v - 3, 4)),
        0,
      );
    const lo = -8;
    const hi = 8;
    const z = simpson((m) => Math.exp(logPost(m)), lo, hi, 4000);
    const ref = simpson((m) => m * Math.exp(logPost(m)), lo, hi, 4000) / z;
    const e = mcmc.summary().mu?.elements[0];
    if (e === undefined) throw new Error('no mu summary');
    expect(Math.abs(e.mean - ref)).toBeLessThan((4 * e.sd) / Math.sqrt(e.essBulk) + 1e-3);
    tf.dispose([y, ...Object.values(mcmc.getSamples())]);
  });

  it('right-censored exponential survival: NUTS recovers the conjugate Gamma posterior of the rate', async () => {
    // event times, follow-up ending at 3 (censored): d events, total time T
    const times = [0.4, 2.2, 3, 1.1, 3, 0.9, 2.7, 3, 0.2, 1.6, 3, 0.7, 1.9, 3, 0.5];
    const cens = times.map((t) => t === 3);
    const d = cens.filter((c) => !c).length;
    const total = times.reduce((a, b) => a + b, 0);
    const t = tf.tensor1d(times);
    const model = (obs: tf.Tensor): void => {
      const rate = ppl.sample('rate', new D.Gamma(2, 1));
      ppl.plate('subjects', times.length, () => {
        ppl.sample('t', new D.RightCensoredDistribution(new D.Exponential(rate), cens), { obs });
      });
    };
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 400,
      warmupSteps: 300,
      progressBar: false,
      seed: 4,
    });
    await mcmc.run(t);
    // Gamma(2 + d, 1 + T): mean (2 + d) / (1 + T)
    const ref = (2 + d) / (1 + total);
    const e = mcmc.summary().rate?.elements[0];
    if (e === undefined) throw new Error('no rate summary');
    expect(Math.abs(e.mean - ref)).toBeLessThan((4 * e.sd) / Math.sqrt(e.essBulk) + 1e-3);
    const sdRef = Math.sqrt(2 + d) / (1 + total);
    expect(Math.abs(e.sd - sdRef) / sdRef).toBeLessThan(0.2);
    tf.dispose([t, ...Object.values(mcmc.getSamples())]);
  });
});
