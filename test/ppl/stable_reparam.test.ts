/**
 * Pyro's stable reparameterizers: LatentStableReparam, SymmetricStableReparam and StableReparam
 * preserve the law of the site (two-sample Kolmogorov–Smirnov of the reparameterized draws
 * against direct Stable draws, seeded), keep observations, SVI with StableReparam recovers a
 * known stable location, MinimalReparam/AutoReparam choose them as Pyro's `_minimal_reparam`,
 * bad sites are named, and the rewrites leak nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** The two-sample Kolmogorov–Smirnov statistic. */
function ks2(a: number[], b: number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i] as number, y[j] as number);
    while (i < x.length && (x[i] as number) <= v) i++;
    while (j < y.length && (y[j] as number) <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}
/** Two-sample KS critical value at level 0.001 for sizes n, m. */
const ks2Crit = (n: number, m: number): number => 1.95 * Math.sqrt((n + m) / (n * m));

/** Draws of site `x` of a model with one Stable site of batch [n], through `reparam`. */
function reparamDraws(
  make: () => D.Distribution,
  r: ppl.Reparam,
  n: number,
  seed: number,
): { values: number[]; sites: string[] } {
  setSeed(seed);
  const before = tf.memory().numTensors;
  const model = (): void => {
    const d = make();
    ppl.plate('N', n, () => ppl.sample('x', d));
  };
  const out = tf.tidy(() => {
    const tr = ppl.trace(ppl.reparam(model, { x: r })).getTrace();
    const x = tr.nodes.get('x');
    const values = Array.from((x?.value as tf.Tensor).dataSync());
    const sites = [...tr.nodes.keys()];
    tr.dispose();
    return { values, sites };
  });
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

describe('stable reparameterizers preserve the law', () => {
  const n = 3000;
  it('LatentStableReparam: x = loc + scale Z(V, W), both coords (KS vs direct draws)', () => {
    for (const [a, b, coords] of [
      [1.5, 0.6, 'S0'],
      [0.8, -0.4, 'S'],
      [1.003, 0.5, 'S0'],
    ] as const) {
      const make = (): D.Distribution => new D.Stable(a, b, 1.3, 0.5, { coords });
      const { values, sites } = reparamDraws(make, new ppl.LatentStableReparam(), n, 1);
      expect(sites).toEqual(expect.arrayContaining(['x_uniform', 'x_exponential', 'x']));
      const d = make();
      const direct = Array.from(tf.tidy(() => d.expand([n]).sample([], 77)).dataSync());
      d.dispose();
      expect(ks2(values, direct)).toBeLessThan(ks2Crit(n, n));
    }
  });

  it('SymmetricStableReparam: a scale mixture of normals (KS vs direct draws)', () => {
    for (const a of [1.5, 0.7]) {
      const make = (): D.Distribution => new D.Stable(a, 0, 0.9, -0.3);
      const { values, sites } = reparamDraws(make, new ppl.SymmetricStableReparam(), n, 2);
      expect(sites).toEqual(expect.arrayContaining(['x_uniform', 'x_exponential', 'x']));
      const d = make();
      const direct = Array.from(tf.tidy(() => d.expand([n]).sample([], 78)).dataSync());
      d.dispose();
      expect(ks2(values, direct)).toBeLessThan(ks2Crit(n, n));
    }
  });

  it('StableReparam: skewed + symmetric parts, any (alpha, beta), both coords', () => {
    for (const [a, b, coords] of [
      [1.5, 0.6, 'S0'],
      [0.8, -0.9, 'S0'],
      [1.2, 1, 'S'],
      [1, 0.5, 'S0'],
      [1.002, -0.5, 'S0'],
    ] as const) {
      const make = (): D.Distribution => new D.Stable(a, b, 1.1, 0.4, { coords });
      const { values, sites } = reparamDraws(make, new ppl.StableReparam(), n, 3);
      expect(sites).toEqual(
        expect.arrayContaining([
          'x_z_uniform',
          'x_z_exponential',
          'x_t_uniform',
          'x_t_exponential',
        ]),
      );
      const d = make();
      const direct = Array.from(tf.tidy(() => d.expand([n]).sample([], 79)).dataSync());
      d.dispose();
      expect(ks2(values, direct)).toBeLessThan(ks2Crit(n, n));
    }
  });

  it('an observed site stays observed with a Normal likelihood given the auxiliary latents', () => {
    setSeed(4);
    const obs = tf.tensor1d([0.3, -1, 2]);
    const model = (): void => {
      ppl.plate('N', 3, () => ppl.sample('y', new D.Stable(1.5, 0.3, 1, 0), { obs }));
    };
    tf.tidy(() => {
      const tr = ppl.trace(ppl.reparam(model, { y: new ppl.StableReparam() })).getTrace();
      const y = tr.nodes.get('y');
      expect(y?.isObserved).toBe(true);
      expect(y?.fn).toBeInstanceOf(D.Normal);
      expect(Array.from((y?.value as tf.Tensor).dataSync())).toBeAllclose([0.3, -1, 2]);
      expect(tr.nodes.get('y_t_uniform')?.isObserved).toBe(false);
    });
    obs.dispose();
  });
});

describe('SVI with StableReparam', () => {
  it('recovers the location of stable data (alpha = 1.5, beta = 0.5) within 0.35', () => {
    setSeed(5);
    const N = 100;
    const truth = new D.Stable(1.5, 0.5, 1, 2);
    const data = truth.sample([N], 123);
    truth.dispose();
    const model = (y: tf.Tensor): void => {
      const loc = ppl.param('loc', () => tf.scalar(0));
      ppl.plate('N', N, () => ppl.sample('y', new D.Stable(1.5, 0.5, 1, loc), { obs: y }));
    };
    const m = ppl.reparam(model, { y: new ppl.StableReparam() });
    const guide = new ppl.AutoNormal(m, { initScale: 0.1 });
    const svi = new ppl.SVI(m, guide, tf.train.adam(0.1), new ppl.TraceELBO());
    for (let i = 0; i < 100; i++) svi.step(data);
    const before = tf.memory().numTensors;
    let avg = 0;
    for (let i = 0; i < 40; i++) {
      svi.step(data);
      const v = ppl.getParamStore().value('loc');
      avg += (v.dataSync()[0] as number) / 40;
      v.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    // the S0 location of n = 100 draws is known to about 0.15 (sd of its estimate)
    expect(Math.abs(avg - 2)).toBeLessThan(0.35);
    data.dispose();
  });
});

describe('NUTS with LatentStableReparam', () => {
  it('samples the auxiliary latents; x keeps the Stable law (quantiles within MC error)', async () => {
    const model = (): void => {
      ppl.sample('x', new D.Stable(1.5, 0.4, 1, 0.5));
    };
    const rm = ppl.reparam(model, { x: new ppl.LatentStableReparam() });
    const before = tf.memory().numTensors;
    const mcmc = new ppl.MCMC(new ppl.NUTS(rm), {
      numSamples: 600,
      warmupSteps: 300,
      progressBar: false,
      seed: 3,
    });
    await mcmc.run();
    const s = mcmc.getSamples();
    const xs = Array.from((s.x as tf.Tensor).dataSync());
    tf.dispose(Object.values(s));
    expect(tf.memory().numTensors).toBe(before);
    const d = new D.Stable(1.5, 0.4, 1, 0.5);
    const direct = Array.from(tf.tidy(() => d.sample([20000], 5)).dataSync());
    d.dispose();
    // P(X <= q_p) for the direct quartiles: binomial SE inflated for autocorrelation (ESS >= n/4)
    const sorted = [...direct].sort((p, q) => p - q);
    for (const p of [0.25, 0.5, 0.75]) {
      const q = sorted[Math.floor(p * sorted.length)] as number;
      const frac = xs.filter((v) => v <= q).length / xs.length;
      expect(Math.abs(frac - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / (xs.length / 4)));
    }
  });
});

describe('strategies and bad sites', () => {
  it('MinimalReparam: Latent for a latent site, Symmetric / Stable for an observed one', () => {
    const obs = tf.scalar(0.5);
    const model = (): void => {
      ppl.sample('a', new D.Stable(1.5, 0.5));
      ppl.sample('b', new D.Stable(1.5, 0), { obs });
      ppl.sample('c', new D.Stable(1.5, 0.2), { obs });
      ppl.sample('d', new D.StableWithLogProb(1.5, 0.2), { obs });
      ppl.sample('e', new D.Normal(0, 1));
    };
    const minimal = new ppl.MinimalReparam();
    tf.tidy(() => {
      ppl.trace(minimal.reparam(model)).getTrace();
    });
    expect(minimal.config.a).toBeInstanceOf(ppl.LatentStableReparam);
    expect(minimal.config.b).toBeInstanceOf(ppl.SymmetricStableReparam);
    expect(minimal.config.c).toBeInstanceOf(ppl.StableReparam);
    expect(minimal.config.d).toBeNull();
    expect(minimal.config.e).toBeNull();
    const auto = new ppl.AutoReparam();
    tf.tidy(() => {
      ppl.trace(auto.reparam(model)).getTrace();
    });
    expect(auto.config.a).toBeInstanceOf(ppl.LatentStableReparam);
    expect(auto.config.c).toBeInstanceOf(ppl.StableReparam);
    obs.dispose();
  });

  it('bad sites are named: observed latent-only, not Stable, skewed or alpha = 2 symmetric', () => {
    const obs = tf.scalar(0.5);
    const run =
      (fn: D.Distribution, r: ppl.Reparam, observed: boolean): (() => void) =>
      () =>
        tf.tidy(() => {
          const model = (): void => {
            ppl.sample('s', fn, observed ? { obs } : {});
          };
          ppl.trace(ppl.reparam(model, { s: r })).getTrace();
        });
    const cases: [() => void, RegExp][] = [
      [run(new D.Stable(1.5, 0), new ppl.LatentStableReparam(), true), /observed/],
      [run(new D.Normal(0, 1), new ppl.StableReparam(), false), /expected a Stable/],
      [run(new D.Stable(1.5, 0.5), new ppl.SymmetricStableReparam(), false), /skew 0/],
      [run(new D.Stable(2, 0), new ppl.SymmetricStableReparam(), false), /stability < 2/],
      [run(new D.Stable(2, 0.3), new ppl.StableReparam(), false), /stability < 2/],
    ];
    for (const [f, msg] of cases) {
      expect(f).toThrow(ArgumentError);
      expect(f).toThrow(msg);
      try {
        f();
      } catch (e) {
        expect((e as ArgumentError).argument).toBe('s');
      }
    }
    obs.dispose();
  });
});
