/**
 * Pyro's/NumPyro's init strategies `init_to_feasible`, `init_to_sample`, `init_to_mean` next to
 * `init_to_median`/`init_to_uniform`/`init_to_value`: the starting values of MCMC chains (the
 * unconstrained start of `initialPoint`) and autoguide locations (`initLoc`), each of the right
 * shape and support, exact where the strategy is deterministic; NUTS converges from each.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { bijectTo } from '../../src/distributions/transform_to.js';
import { expectNoLeak } from '../helpers.js';

const { sample, mcmc } = ppl;

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

/** Sites of several supports (and one whose mean is undefined). */
const model = (): void => {
  sample('loc', new D.Normal(tf.tensor1d([1, -2, 3]), 1).toEvent(1));
  sample('rate', new D.Gamma(2, 3));
  sample('p', new D.Beta(2, 3));
  sample('w', new D.Dirichlet(tf.tensor1d([2, 3, 5])));
  sample('heavy', new D.Cauchy(4, 0.5)); // no mean: init_to_mean falls back to the median
  sample('t1', new D.StudentT(1, -3, 1)); // mean NaN (df = 1): the median again
};

const SUPPORTS: Record<string, (v: number[]) => boolean> = {
  loc: (v) => v.length === 3 && v.every(Number.isFinite),
  rate: (v) => v.length === 1 && (v[0] as number) > 0,
  p: (v) => v.length === 1 && (v[0] as number) > 0 && (v[0] as number) < 1,
  w: (v) =>
    v.length === 3 && v.every((x) => x > 0) && Math.abs(v.reduce((a, b) => a + b) - 1) < 1e-5,
  heavy: (v) => v.length === 1 && Number.isFinite(v[0]),
  t1: (v) => v.length === 1 && Number.isFinite(v[0]),
};

/** The constrained MCMC start of every site under `strategy`. */
function mcmcStart(strategy: ppl.InitStrategy, seed = 1): Record<string, number[]> {
  const { sites, z } = mcmc.initialPoint(model, [], strategy, new mcmc.ChainRng(seed));
  const out: Record<string, number[]> = {};
  const tr = ppl.trace(model).getTrace();
  for (const s of sites) {
    const fn = tr.get(s.name)?.fn as D.Distribution;
    const b = bijectTo(fn.support);
    const u = tf.tensor(
      Float32Array.from(z.subarray(s.offset, s.offset + s.size)),
      s.unconstrainedShape,
    );
    const v = b.forward(u);
    expect(v.shape).toEqual(s.shape);
    out[s.name] = Array.from(v.dataSync());
    tf.dispose([u, v]);
    b.dispose();
  }
  tr.dispose();
  return out;
}

/** The autoguide's initial locations under `initLoc`. */
function guideStart(initLoc: ppl.InitLoc, seed = 1): Record<string, number[]> {
  void seed; // the autoguide draws from the global stream, which moves on
  const guide = new ppl.AutoDelta(model, { initLoc });
  tf.dispose(Object.values(guide.call()));
  const med = guide.median();
  const out = Object.fromEntries(
    Object.entries(med).map(([k, t]) => [k, Array.from(t.dataSync())]),
  );
  tf.dispose(Object.values(med));
  ppl.clearParamStore();
  return out;
}

const expectClose = (a: number[] | undefined, b: number[], tol: number): void => {
  expect(a).toBeDefined();
  (a as number[]).forEach((x, i) => expect(Math.abs(x - (b[i] as number))).toBeLessThan(tol));
};

describe.each([
  ['MCMC initStrategy', mcmcStart],
  ['autoguide initLoc', guideStart],
] as const)('%s', (_, start) => {
  it('every strategy gives values of the right shape in the support', () => {
    for (const s of [
      ppl.initToFeasible(),
      ppl.initToSample(),
      ppl.initToMean(),
      ppl.initToMedian(),
      ppl.initToUniform(),
      'mean',
      'feasible',
    ] as const) {
      const v = start(s);
      for (const [name, ok] of Object.entries(SUPPORTS)) {
        expect(ok(v[name] as number[]), `${JSON.stringify(s)} ${name} ${v[name]}`).toBe(true);
      }
    }
  });

  it('initToFeasible is bijectTo(support)(0): 0, 1, 1/2, the uniform simplex', () => {
    const v = start(ppl.initToFeasible());
    expectClose(v.loc, [0, 0, 0], 1e-6);
    const positive = bijectTo(new D.Gamma(2, 3).support);
    const one = tf.tidy(() => positive.forward(tf.scalar(0)).dataSync()[0] as number);
    positive.dispose();
    expectClose(v.rate, [one], 1e-6);
    expectClose(v.p, [0.5], 1e-6);
    expectClose(v.w, [1 / 3, 1 / 3, 1 / 3], 1e-6);
  });

  it('initToMean is the prior mean where it is defined, the median of draws elsewhere', () => {
    const v = start(ppl.initToMean());
    expectClose(v.loc, [1, -2, 3], 1e-6);
    expectClose(v.rate, [2 / 3], 1e-6);
    expectClose(v.p, [0.4], 1e-6);
    expectClose(v.w, [0.2, 0.3, 0.5], 1e-6);
    // the median of 15 Cauchy(4, 0.5) draws: sd of the sample median ~ pi * 0.5 / (2 sqrt 15)
    expectClose(v.heavy, [4], 6 * ((Math.PI * 0.5) / (2 * Math.sqrt(15))));
    expectClose(v.t1, [-3], 6 * (Math.PI / (2 * Math.sqrt(15))));
  });

  it('initToSample draws from the prior: different seeds, different starts', () => {
    const a = start(ppl.initToSample(), 1);
    const b = start(ppl.initToSample(), 2);
    expect(a.heavy).not.toEqual(b.heavy);
  });
});

describe('init strategies: arguments and memory', () => {
  it('refuse bad arguments naming them', () => {
    expect(() => ppl.initToMean(0)).toThrow(/^numSamples: expected an integer >= 1/);
    expect(() => ppl.initToUniform(-1)).toThrow(/^radius:/);
    expect(() => new ppl.AutoDelta(model, { initLoc: 'middle' as never })).toThrow(
      /^initLoc: expected 'uniform', 'median', 'sample', 'feasible', 'mean'/,
    );
    expect(() =>
      mcmc.initialPoint(model, [], { kind: 'mean' } as never, new mcmc.ChainRng(0)),
    ).toThrow(/^initStrategy: expected/);
  });
  it('leave no tensor behind', () => {
    expectNoLeak(() => void mcmcStart(ppl.initToMean()));
    expectNoLeak(() => void mcmcStart(ppl.initToFeasible()));
  });
});

describe('NUTS converges from every new strategy', () => {
  // mu ~ N(0, 2), y_i ~ N(mu, 1): posterior N(sum y / (n + 1/4), 1 / (n + 1/4)); tau ~ Gamma(3, 3)
  // has no data: its posterior is its prior (mean 1, sd 1 / sqrt 3)
  const ys = [2.1, 1.4, 2.9, 1.8, 2.5, 2.2, 1.1, 2.7];
  const n = ys.length;
  const post = { mean: ys.reduce((a, b) => a + b) / (n + 0.25), sd: Math.sqrt(1 / (n + 0.25)) };
  const conj = (y: tf.Tensor): void => {
    const mu = sample('mu', new D.Normal(0, 2));
    sample('tau', new D.Gamma(3, 3));
    ppl.plate('data', n, () => sample('y', new D.Normal(mu, 1), { obs: y }));
  };
  it.each([
    ['feasible', ppl.initToFeasible()],
    ['sample', ppl.initToSample()],
    ['mean', ppl.initToMean()],
  ] as const)(
    'init_to_%s: posterior means within 5 Monte Carlo standard errors',
    async (_, initStrategy) => {
      const y = tf.tensor1d(ys);
      const m = new ppl.MCMC(new ppl.NUTS(conj, { initStrategy }), {
        numSamples: 400,
        warmupSteps: 200,
        progressBar: false,
        seed: 3,
      });
      await m.run(y);
      const s = m.getSamples();
      const mu = Array.from((s.mu as tf.Tensor).dataSync());
      const tau = Array.from((s.tau as tf.Tensor).dataSync());
      const muEss = mcmc.ess([mu]);
      const tauEss = mcmc.ess([tau]);
      const mean = (v: number[]): number => v.reduce((a, b) => a + b) / v.length;
      expect(Math.abs(mean(mu) - post.mean)).toBeLessThan((5 * post.sd) / Math.sqrt(muEss));
      expect(Math.abs(mean(tau) - 1)).toBeLessThan(5 / Math.sqrt(3) / Math.sqrt(tauEss));
      tf.dispose(Object.values(s));
      y.dispose();
    },
    60_000,
  );
});
