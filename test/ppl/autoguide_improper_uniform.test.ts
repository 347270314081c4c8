/**
 * Autoguides on flat (`ImproperUniform`) priors: a site that cannot be drawn starts, under the
 * strategies that draw (`initToSample`, `initToMedian`, `initToMean`), at `T(u)` with
 * `u_i ~ Uniform(-2, 2)` in the unconstrained space (NumPyro's `init_to_uniform` fallback);
 * `initToFeasible` gives `T(0)`. With a flat prior on a normal mean and a known noise scale the
 * posterior is `N(ȳ, σ²/n)` in closed form, which SVI with AutoNormal and the Laplace
 * approximation recover.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const ys = [1.3, 0.4, 2.2, 1.7, 0.9, 1.1, 2.5, 0.6];
const n = ys.length;
const SIGMA = 0.8;
const ybar = ys.reduce((a, b) => a + b, 0) / n;
const postSd = SIGMA / Math.sqrt(n);

/** Flat prior on the mean, known noise scale. */
const flatMean = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.ImproperUniform(D.constraints.real, [], []));
  ppl.plate('data', n, () => ppl.sample('y', new D.Normal(mu, SIGMA), { obs: y }));
};

/** Flat priors on a real vector (in a plate), a positive scale and a simplex. */
const flatMany = (): void => {
  ppl.plate('g', 3, () =>
    ppl.sample('a', new D.ImproperUniform(D.constraints.real, [], []).expand([3])),
  );
  ppl.sample('s', new D.ImproperUniform(D.constraints.positive, [], []));
  ppl.sample('w', new D.ImproperUniform(D.constraints.simplex, [], [4]));
};

type Guide = ppl.AutoGuide<[]>;
const makers: [string, (init: ppl.InitLoc) => Guide][] = [
  ['AutoNormal', (initLoc) => new ppl.AutoNormal(flatMany, { initLoc })],
  ['AutoDelta', (initLoc) => new ppl.AutoDelta(flatMany, { initLoc })],
  ['AutoDiagonalNormal', (initLoc) => new ppl.AutoDiagonalNormal(flatMany, { initLoc })],
  ['AutoMultivariateNormal', (initLoc) => new ppl.AutoMultivariateNormal(flatMany, { initLoc })],
  [
    'AutoLaplaceApproximation',
    (initLoc) => new ppl.AutoLaplaceApproximation(flatMany, { initLoc }),
  ],
];

describe('autoguides on ImproperUniform priors', { timeout: 120_000 }, () => {
  for (const [name, make] of makers) {
    it(`${name}: sample/median/mean start flat sites uniformly in (-2, 2) unconstrained`, () => {
      for (const initLoc of [
        'sample',
        'median',
        'mean',
        ppl.initToMedian(5),
        ppl.initToMean(3),
        ppl.initToSample(),
      ] as const) {
        setSeed(3);
        const g = make(initLoc);
        const before = tf.memory().numTensors;
        const sites = g.latentSites();
        expect(sites.map((s) => s.name)).toEqual(['a', 's', 'w']);
        const u = sites.flatMap((s) => Array.from(s.init.dataSync()));
        expect(u.length).toBe(3 + 1 + 3);
        for (const v of u) {
          expect(Math.abs(v)).toBeLessThan(2);
        }
        // a uniform draw: not the feasible origin, and not one value repeated
        expect(new Set(u.map((v) => v.toFixed(6))).size).toBe(u.length);
        // the guide draws lie in the supports
        const draw = g.call();
        expect((draw.s?.dataSync()[0] as number) > 0).toBe(true);
        const w = Array.from(draw.w?.dataSync() ?? []);
        expect(w.every((x) => x > 0)).toBe(true);
        expect(Math.abs(w.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
        tf.dispose(Object.values(draw));
        g.dispose();
        ppl.clearParamStore();
        // the prototype's tensors (trace, inits, bijectors) are all freed
        expect(tf.memory().numTensors).toBe(before);
      }
    });
  }

  it('initToFeasible starts a flat site at T(0); the uniform draws follow the seed', () => {
    setSeed(3);
    const f = new ppl.AutoNormal(flatMany, { initLoc: 'feasible' });
    for (const s of f.latentSites())
      expect(Array.from(s.init.dataSync())).toEqual(new Array(s.size).fill(0));
    f.dispose();
    const inits = (): number[] => {
      setSeed(11);
      const g = new ppl.AutoNormal(flatMany, { initLoc: 'median' });
      const out = g.latentSites().flatMap((s) => Array.from(s.init.dataSync()));
      g.dispose();
      return out;
    };
    expect(inits()).toEqual(inits());
  });

  it('a user initLoc function receives a uniform point in the support for a flat site', () => {
    setSeed(5);
    const seen: Record<string, number[]> = {};
    const g = new ppl.AutoNormal(flatMany, {
      initLoc: (name, draw) => {
        seen[name] = Array.from(draw.dataSync());
        return draw.clone();
      },
    });
    g.latentSites();
    expect(seen.a?.length).toBe(3);
    expect(seen.a?.every((v) => Math.abs(v) < 2)).toBe(true);
    const s = seen.s?.[0] as number;
    expect(s).toBeGreaterThan(Math.exp(-2));
    expect(s).toBeLessThan(Math.exp(2));
    expect(s).not.toBe(1);
    g.dispose();
  });

  it('MCMC init strategies fall back the same way (initSiteValue)', async () => {
    setSeed(7);
    const mcmc = new ppl.MCMC(new ppl.NUTS(flatMean, { initStrategy: 'median' }), {
      warmupSteps: 150,
      numSamples: 200,
    });
    await mcmc.run(tf.tensor1d(ys));
    const mu = Array.from(mcmc.getSamples().mu?.dataSync() ?? []);
    expect(mu.length).toBe(200);
    const m = mu.reduce((a, b) => a + b, 0) / mu.length;
    // within 5 standard errors, taking an effective sample size of at least 50
    expect(Math.abs(m - ybar)).toBeLessThan((5 * postSd) / Math.sqrt(50));
  });

  it('SVI with AutoNormal (started at median) recovers the closed-form posterior N(ȳ, σ²/n)', () => {
    setSeed(0);
    const y = tf.tensor1d(ys);
    const guide = new ppl.AutoNormal(flatMean, { initLoc: 'median' });
    const svi = new ppl.SVI(flatMean, guide, tf.train.adam(0.05), new ppl.TraceMeanFieldELBO());
    svi.step(y);
    const start = tf.memory().numTensors;
    // average the parameters over the last steps: Polyak averaging cuts the SGD noise
    let locSum = 0;
    let sdSum = 0;
    const steps = 1500;
    const tail = 500;
    for (let i = 1; i < steps; i++) {
      svi.step(y);
      if (i >= steps - tail) {
        const m = guide.median();
        const sc = guide.scales();
        locSum += m.mu?.dataSync()[0] as number;
        sdSum += sc.mu?.dataSync()[0] as number;
        tf.dispose([...Object.values(m), ...Object.values(sc)]);
      }
    }
    expect(tf.memory().numTensors).toBe(start);
    const loc = locSum / tail;
    const sd = sdSum / tail;
    expect(Math.abs(loc - ybar)).toBeLessThan(0.1 * postSd);
    expect(Math.abs(sd - postSd) / postSd).toBeLessThan(0.1);
  });

  it('the Laplace approximation at the MAP of a flat-prior mean is N(ȳ, σ²/n) exactly', () => {
    setSeed(1);
    const y = tf.tensor1d(ys);
    const guide = new ppl.AutoLaplaceApproximation(flatMean, { initLoc: 'sample' });
    const svi = new ppl.SVI(flatMean, guide, tf.train.adam(0.1), new ppl.TraceELBO());
    for (let i = 0; i < 400; i++) svi.step(y);
    const lap = guide.laplaceApproximation(y);
    const { loc, scale } = lap.locAndScale();
    expect(Math.abs((loc.dataSync()[0] as number) - ybar)).toBeLessThan(1e-3);
    expect(Math.abs((scale.dataSync()[0] as number) - postSd)).toBeLessThan(1e-3);
    tf.dispose([loc, scale]);
  });
});
