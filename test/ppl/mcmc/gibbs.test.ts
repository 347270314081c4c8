/**
 * HMC-within-Gibbs (NumPyro's `HMCGibbs`) and discrete Gibbs with HMC/NUTS (`DiscreteHMCGibbs`)
 * against closed forms and brute-force sums over every discrete configuration: a conjugate
 * Normal-mean `gibbsFn`, a two-component Gaussian mixture with Bernoulli assignments (membership
 * probabilities and component means), a change point with a Categorical switch, NumPyro's
 * Categorical example (mean 1.3, variance 4.36), and a site left to enumeration next to a Gibbs
 * site. Tolerances come from each draw's standard error with the run's bulk ESS. Also: the
 * modified and random-walk proposals, continuation (`lastState`), vectorized chains, checkpoints
 * killed and resumed, errors naming the site before any work, and no tensor left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  Bernoulli,
  Categorical,
  HalfNormal,
  Normal,
  Poisson,
} from '../../../src/distributions/index.js';
import { plate } from '../../../src/ppl/handlers/plate.js';
import {
  DiscreteHMCGibbs,
  HMC,
  HMCGibbs,
  MCMC,
  MixedHMC,
  NUTS,
  initToValue,
  type GibbsFn,
  type MCMCCheckpointIO,
  type MCMCOptions,
} from '../../../src/ppl/mcmc/index.js';
import { sample } from '../../../src/ppl/runtime.js';
import { ArgumentError } from '../../../src/utils/errors.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Mean of draws and its tolerance: 5 standard errors at the site's bulk ESS (+ `extra`). */
function withinMC(m: MCMC, site: string, exact: number[], extra = 0.01): void {
  const s = m.summary()[site];
  if (s === undefined) throw new Error(`no site ${site}`);
  s.elements.forEach((e, i) => {
    const tol = (5 * e.sd) / Math.sqrt(Math.max(e.essBulk, 1)) + extra;
    expect(Math.abs(e.mean - (exact[i] as number)), `${site}[${i}]`).toBeLessThan(tol);
  });
}

/** Draws per chain as host arrays (the tensors disposed). */
function draws(m: MCMC): Record<string, number[]> {
  const g = m.getSamples({ groupByChain: true });
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(g)) out[k] = Array.from(t.dataSync());
  tf.dispose(Object.values(g));
  return out;
}

/**
 * `log N(y; prior * 1, I + s2 * 1 1^T)`: the marginal likelihood of a group of unit-variance
 * observations whose common mean has the prior `N(prior, s2)`.
 */
function groupLogML(ys: number[], prior: number, s2: number): number {
  const n = ys.length;
  const d = ys.map((y) => y - prior);
  const sd = d.reduce((a, b) => a + b, 0);
  const sdd = d.reduce((a, b) => a + b * b, 0);
  return (
    -0.5 * n * LOG_2PI - 0.5 * Math.log(1 + n * s2) - 0.5 * (sdd - (s2 * sd * sd) / (1 + n * s2))
  );
}

// ---------------------------------------------------------------------------------------------
// a two-component mixture: m0 ~ N(-2, 1), m1 ~ N(2, 1), z_i ~ Bernoulli(1/2), y_i ~ N(m_{z_i}, 1)
const ys = [-2.1, -1.5, -0.3, 0.4, 1.8, 2.5];
const yMix = tf.tensor1d(ys);

function mixture(): void {
  const m0 = sample('m0', new Normal(-2, 1));
  const m1 = sample('m1', new Normal(2, 1));
  plate('data', ys.length, () => {
    const z = sample('z', new Bernoulli({ probs: 0.5 }));
    sample('y', new Normal(tf.add(m0, tf.mul(z, tf.sub(m1, m0))), 1), { obs: yMix });
  });
}

/** `P(z_i = 1 | y)`, `E[m0 | y]`, `E[m1 | y]` by summing over the 2^6 assignments. */
function mixtureExact(): { pz: number[]; m0: number; m1: number } {
  const n = ys.length;
  let w = 0;
  let m0 = 0;
  let m1 = 0;
  const pz = new Array<number>(n).fill(0);
  for (let c = 0; c < 1 << n; c++) {
    const g0: number[] = [];
    const g1: number[] = [];
    for (let i = 0; i < n; i++) ((c >> i) & 1 ? g1 : g0).push(ys[i] as number);
    const lw = groupLogML(g0, -2, 1) + groupLogML(g1, 2, 1) + n * Math.log(0.5);
    const wc = Math.exp(lw);
    w += wc;
    for (let i = 0; i < n; i++) if ((c >> i) & 1) pz[i] = (pz[i] as number) + wc;
    const sum = (g: number[]): number => g.reduce((a, b) => a + b, 0);
    m0 += (wc * (-2 + sum(g0))) / (1 + g0.length);
    m1 += (wc * (2 + sum(g1))) / (1 + g1.length);
  }
  return { pz: pz.map((p) => p / w), m0: m0 / w, m1: m1 / w };
}

function opts(extra: Partial<MCMCOptions> = {}): MCMCOptions {
  return { numSamples: 600, warmupSteps: 300, seed: 3, progressBar: false, ...extra };
}

describe('DiscreteHMCGibbs: a Gaussian mixture with Bernoulli assignments', () => {
  const exact = mixtureExact();

  it('membership probabilities and component means match the brute-force posterior (Gibbs, recorded potential)', () => {
    const before = tf.memory().numTensors;
    const m = new MCMC(new DiscreteHMCGibbs(new NUTS(mixture)), opts({ numSamples: 1000 }));
    m.runSync();
    expect(tf.memory().numTensors).toBe(before);
    expect(m.getExtraFields()[0]?.compiled).toBe(true);
    expect(m.latentSites.map((s) => s.name)).toEqual(['m0', 'm1', 'z']);
    withinMC(m, 'z', exact.pz, 0.02);
    withinMC(m, 'm0', [exact.m0], 0.03);
    withinMC(m, 'm1', [exact.m1], 0.03);
    const s = m.getSamples();
    expect(s.z?.shape).toEqual([1000, 6]);
    tf.dispose(Object.values(s));
  });

  for (const [name, o] of [
    ['modified Gibbs', { modified: true }],
    ['random walk', { randomWalk: true }],
    ['modified random walk', { randomWalk: true, modified: true }],
  ] as const) {
    it(`${name} proposals leave the posterior invariant`, () => {
      const m = new MCMC(
        new DiscreteHMCGibbs(new NUTS(mixture), o),
        opts({ numSamples: 1000, warmupSteps: 300 }),
      );
      m.runSync();
      withinMC(m, 'z', exact.pz, 0.02);
      withinMC(m, 'm1', [exact.m1], 0.03);
    });
  }

  it('over the tfjs potential (compile: false) too', () => {
    const m = new MCMC(
      new DiscreteHMCGibbs(new NUTS(mixture, { compile: false })),
      opts({ numSamples: 200, warmupSteps: 100 }),
    );
    m.runSync();
    expect(m.getExtraFields()[0]?.compiled).toBe(false);
    expect(m.getExtraFields()[0]?.compileReason).toBe('compile: false');
    withinMC(m, 'z', exact.pz, 0.03);
  });

  it('vectorized chains draw what sequential chains draw; lastState continues exactly', () => {
    const mk = (extra: Partial<MCMCOptions>): MCMC =>
      new MCMC(
        new DiscreteHMCGibbs(new HMC(mixture, { numSteps: 4 })),
        opts({ numSamples: 30, warmupSteps: 20, numChains: 2, ...extra }),
      );
    const seq = mk({});
    seq.runSync();
    const vec = mk({ chainMethod: 'vectorized' });
    vec.runSync();
    expect(draws(vec)).toEqual(draws(seq));
    // two runs of 15 continued = one run of 30
    const a = mk({ numSamples: 15 });
    a.runSync();
    const first = draws(a);
    const st = a.lastState;
    expect(st?.kernel).toBe('DiscreteHMCGibbs');
    expect(st?.chains[0]?.gibbs?.length).toBe(6);
    a.postWarmupState = st;
    a.runSync();
    const second = draws(a);
    const all = draws(seq);
    for (const k of ['z', 'm0']) {
      const per = (all[k] as number[]).length / 2;
      const half = per / 2;
      for (let c = 0; c < 2; c++) {
        expect((first[k] as number[]).slice(c * half, (c + 1) * half)).toEqual(
          (all[k] as number[]).slice(c * per, c * per + half),
        );
        expect((second[k] as number[]).slice(c * half, (c + 1) * half)).toEqual(
          (all[k] as number[]).slice(c * per + half, (c + 1) * per),
        );
      }
    }
  });

  it('a checkpointed run killed mid-way resumes to the draws of the uninterrupted run', async () => {
    class Killed extends Error {}
    const files = new Map<string, Uint8Array>();
    const io = (killAt: number): MCMCCheckpointIO => {
      let writes = 0;
      return {
        read: (p) => files.get(p)?.slice(),
        write: (p, d) => {
          files.set(p, d.slice());
          writes += 1;
          if (writes >= killAt) throw new Killed(`killed after write ${writes}`);
        },
      };
    };
    const mk = (killAt: number, path: string): MCMC =>
      new MCMC(
        new DiscreteHMCGibbs(new NUTS(mixture)),
        opts({
          numSamples: 20,
          warmupSteps: 20,
          checkpoint: { path, every: 7, resume: true, io: io(killAt) },
        }),
      );
    const ref = mk(Infinity, 'ref');
    await ref.run();
    await expect(mk(3, 'k').run()).rejects.toThrow(Killed);
    const resumed = mk(Infinity, 'k');
    await resumed.run();
    expect(draws(resumed)).toEqual(draws(ref));
    // another Gibbs setting is refused naming the difference
    const other = new MCMC(
      new DiscreteHMCGibbs(new NUTS(mixture), { modified: true }),
      opts({
        numSamples: 20,
        warmupSteps: 20,
        checkpoint: { path: 'k', resume: true, io: io(99) },
      }),
    );
    await expect(other.run()).rejects.toThrow(/modified/);
  });
});

describe('DiscreteHMCGibbs: a Categorical switch point and a Categorical mixture', () => {
  const yc = [0.3, -0.4, 0.8, -0.2, 0.1, 1.4, 1.0, 2.1, 1.2, 0.9];
  const T = yc.length;
  const yT = tf.tensor1d(yc);
  const t = tf.range(0, T);
  const changePoint = (): void => {
    const tau = sample('tau', new Categorical({ probs: tf.fill([T + 1], 1 / (T + 1)) }));
    const m1 = sample('m1', new Normal(0, 3));
    const m2 = sample('m2', new Normal(0, 3));
    const before = tf.cast(tf.less(t, tau), 'float32');
    const mean = tf.add(tf.mul(before, m1), tf.mul(tf.sub(1, before), m2));
    plate('data', T, () => sample('y', new Normal(mean, 1), { obs: yT }));
  };

  it('the posterior of the switch point matches the exact one', () => {
    const lw = Array.from({ length: T + 1 }, (_, k) => {
      return groupLogML(yc.slice(0, k), 0, 9) + groupLogML(yc.slice(k), 0, 9);
    });
    const mx = Math.max(...lw);
    const w = lw.map((l) => Math.exp(l - mx));
    const sw = w.reduce((a, b) => a + b, 0);
    const p = w.map((x) => x / sw);
    const m = new MCMC(new DiscreteHMCGibbs(new NUTS(changePoint)), opts({ numSamples: 1500 }));
    m.runSync();
    expect(m.getExtraFields()[0]?.compiled).toBe(true); // Less and OneHot at the switch point
    const tau = m.getSamples().tau as tf.Tensor;
    const v = Array.from(tau.dataSync());
    tau.dispose();
    const ess = m.summary().tau?.elements[0]?.essBulk ?? 1;
    for (let k = 0; k <= T; k++) {
      const f = v.filter((x) => x === k).length / v.length;
      const pk = p[k] as number;
      expect(Math.abs(f - pk), `P(tau = ${k})`).toBeLessThan(
        5 * Math.sqrt((pk * (1 - pk)) / ess) + 0.02,
      );
    }
  });

  it("NumPyro's example: c ~ Categorical, x ~ N(locs[c], 0.5) has mean 1.3 and variance 4.36", () => {
    const probs = tf.tensor1d([0.15, 0.3, 0.3, 0.25]);
    const locs = tf.tensor1d([-2, 0, 2, 4]);
    const model = (): void => {
      const c = sample('c', new Categorical({ probs }));
      sample('x', new Normal(tf.gather(locs, tf.cast(c, 'int32')), 0.5));
    };
    const m = new MCMC(
      new DiscreteHMCGibbs(new NUTS(model), { modified: true }),
      opts({ numSamples: 3000, warmupSteps: 500 }),
    );
    m.runSync();
    const x = m.getSamples().x as tf.Tensor;
    const mean = tf.mean(x).dataSync()[0] as number;
    const variance = tf.moments(x).variance.dataSync()[0] as number;
    x.dispose();
    const ess = m.summary().x?.elements[0]?.essBulk ?? 1;
    expect(m.getExtraFields()[0]?.compiled).toBe(true); // a gather at the Categorical value
    expect(Math.abs(mean - 1.3)).toBeLessThan(5 * Math.sqrt(4.36 / ess));
    // the variance's standard error: sqrt((mu4 - sigma^4) / ess), mu4 of the mixture ~ 40
    expect(Math.abs(variance - 4.36)).toBeLessThan(5 * Math.sqrt((40 - 4.36 ** 2) / ess));
  });

  it("a site marked enumerate: 'parallel' stays summed out next to a Gibbs site", () => {
    // g ~ Bernoulli(0.3) (Gibbs), h ~ Bernoulli(0.6) (enumerated), mu ~ N(g - h, 1), y ~ N(mu, 1)
    const model = (): void => {
      const g = sample('g', new Bernoulli({ probs: 0.3 }));
      const h = sample('h', new Bernoulli({ probs: 0.6 }), { infer: { enumerate: 'parallel' } });
      const mu = sample('mu', new Normal(tf.sub(g, h), 1));
      sample('y', new Normal(mu, 1), { obs: tf.scalar(1.5) });
    };
    // p(g, h | y) ∝ p(g) p(h) N(1.5; g - h, 2)
    let pg = 0;
    let tot = 0;
    for (const g of [0, 1]) {
      for (const h of [0, 1]) {
        const w = (g ? 0.3 : 0.7) * (h ? 0.6 : 0.4) * Math.exp(-((1.5 - (g - h)) ** 2) / 4);
        tot += w;
        if (g) pg += w;
      }
    }
    const m = new MCMC(new DiscreteHMCGibbs(new NUTS(model)), opts({ numSamples: 1500 }));
    m.runSync();
    expect(m.latentSites.map((s) => s.name)).toEqual(['mu', 'g']);
    withinMC(m, 'g', [pg / tot], 0.02);
  });
});

describe('HMCGibbs: a conjugate Gibbs step next to NUTS', () => {
  // x, y ~ N(0, 2^2), obs ~ N(x + y, 1) at obs = 1: x | y, obs ~ N(0.8 (1 - y), 0.8);
  // the posterior: x, y each N(4/9, 20/9)
  const model = (): void => {
    const x = sample('x', new Normal(0, 2));
    const y = sample('y', new Normal(0, 2));
    sample('obs', new Normal(tf.add(x, y), 1), { obs: tf.tensor1d([1]) });
  };
  const gibbsFn: GibbsFn = ({ seed, hmcSites }) => {
    const y = hmcSites.y as tf.Tensor;
    return { x: new Normal(tf.mul(0.8, tf.sub(1, y)), Math.sqrt(0.8)).sample([], seed) };
  };

  it('matches the closed-form posterior (mean 4/9, variance 20/9) and leaves no tensor', async () => {
    const before = tf.memory().numTensors;
    const m = new MCMC(
      new HMCGibbs(new NUTS(model), { gibbsFn, gibbsSites: ['x'] }),
      opts({ numSamples: 2000, warmupSteps: 500 }),
    );
    await m.run();
    expect(tf.memory().numTensors).toBe(before);
    expect(m.lastState?.kernel).toBe('HMCGibbs');
    withinMC(m, 'x', [4 / 9]);
    withinMC(m, 'y', [4 / 9]);
    const s = m.getSamples();
    const vx = tf.moments(s.x as tf.Tensor).variance.dataSync()[0] as number;
    const cov = tf
      .mean(tf.mul(tf.sub(s.x as tf.Tensor, 4 / 9), tf.sub(s.y as tf.Tensor, 4 / 9)))
      .dataSync()[0] as number;
    tf.dispose(Object.values(s));
    expect(Math.abs(vx - 20 / 9)).toBeLessThan(0.35);
    expect(Math.abs(cov - -16 / 9)).toBeLessThan(0.35);
  });

  it('starts the Gibbs sites at initToValue values', () => {
    let seen = NaN;
    const fn: GibbsFn = (a) => {
      if (Number.isNaN(seen)) seen = (a.gibbsSites.x as tf.Tensor).dataSync()[0] as number;
      return gibbsFn(a);
    };
    const m = new MCMC(
      new HMCGibbs(new NUTS(model, { initStrategy: initToValue({ x: 0.25, y: 0.5 }) }), {
        gibbsFn: fn,
        gibbsSites: ['x'],
      }),
      opts({ numSamples: 2, warmupSteps: 0 }),
    );
    m.runSync();
    expect(seen).toBe(0.25);
  });
});

describe('Gibbs kernels: errors name the site or option before any work', () => {
  const model = (): void => {
    const mu = sample('mu', new Normal(0, 1));
    const s = sample('s', new HalfNormal(1));
    sample('k', new Bernoulli({ probs: 0.5 }));
    sample('y', new Normal(mu, s), { obs: tf.scalar(0.3) });
  };
  const noop: GibbsFn = ({ gibbsSites }) => ({ ...gibbsSites });

  function refused(make: () => MCMC, arg: string, msg: RegExp): void {
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      make().runSync();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe(arg);
    expect((err as Error).message).toMatch(msg);
    expect(tf.memory().numTensors).toBe(before);
  }

  it('a gibbsSites name that is no site of the model', () => {
    refused(
      () =>
        new MCMC(new HMCGibbs(new NUTS(model), { gibbsFn: noop, gibbsSites: ['sigma'] }), opts()),
      'gibbsSites',
      /'sigma' is not a sample site.*'mu', 's', 'k'/,
    );
    refused(
      () => new MCMC(new HMCGibbs(new NUTS(model), { gibbsFn: noop, gibbsSites: ['y'] }), opts()),
      'gibbsSites',
      /site 'y' is observed/,
    );
  });

  it('a continuous site given to the discrete Gibbs step; an unbounded discrete site', () => {
    refused(
      () => new MCMC(new DiscreteHMCGibbs(new NUTS(model), { gibbsSites: ['k', 's'] }), opts()),
      'gibbsSites',
      /site 's' has the continuous support/,
    );
    const pois = (): void => {
      const r = sample('r', new HalfNormal(3));
      sample('n', new Poisson(r));
    };
    refused(
      () => new MCMC(new DiscreteHMCGibbs(new NUTS(pois)), opts()),
      'model',
      /site 'n' has the support .* of Poisson, which cannot be enumerated/,
    );
    const cont = (): void => {
      sample('a', new Normal(0, 1));
    };
    refused(
      () => new MCMC(new DiscreteHMCGibbs(new NUTS(cont)), opts()),
      'model',
      /no discrete latent site/,
    );
  });

  it('constructor arguments, gibbsFn results and parallel chains', () => {
    expect(() => new HMCGibbs(new NUTS(model), { gibbsFn: noop, gibbsSites: [] })).toThrow(
      /gibbsSites/,
    );
    expect(
      () =>
        new HMCGibbs(new NUTS(model), {
          gibbsFn: noop,
          gibbsSites: ['k'],
          gibbs_sites: 1,
        } as never),
    ).toThrow(/gibbs_sites/);
    expect(() => new DiscreteHMCGibbs(new NUTS(model), { random_walk: true } as never)).toThrow(
      /random_walk/,
    );
    expect(() => new HMCGibbs({} as never, { gibbsFn: noop, gibbsSites: ['k'] })).toThrow(
      ArgumentError,
    );
    expect(
      () => new MCMC(new DiscreteHMCGibbs(new NUTS(model)), opts({ chainMethod: 'parallel' })),
    ).toThrow(/chainMethod.*|'parallel'.*DiscreteHMCGibbs/);
    refused(
      () =>
        new MCMC(
          new HMCGibbs(new NUTS(model), { gibbsFn: () => ({}), gibbsSites: ['k'] }),
          opts({ numSamples: 2, warmupSteps: 0 }),
        ),
      'gibbsFn',
      /no value for the Gibbs site 'k'/,
    );
    refused(
      () =>
        new MCMC(
          new HMCGibbs(new NUTS(model), { gibbsFn: () => ({ k: 1, mu: 0 }), gibbsSites: ['k'] }),
          opts({ numSamples: 2, warmupSteps: 0 }),
        ),
      'gibbsFn',
      /'mu', which is not one of gibbsSites/,
    );
  });
});

describe('MixedHMC: discrete moves inside the HMC trajectory', () => {
  it("NumPyro's example (c ~ Categorical, x ~ N(locs[c], 0.5)): mean 1.3, variance 4.36", () => {
    const probs = tf.tensor1d([0.15, 0.3, 0.3, 0.25]);
    const locs = tf.tensor1d([-2, 0, 2, 4]);
    const model = (): void => {
      const c = sample('c', new Categorical({ probs }));
      sample('x', new Normal(tf.gather(locs, tf.cast(c, 'int32')), 0.5));
    };
    const before = tf.memory().numTensors;
    const m = new MCMC(
      new MixedHMC(new HMC(model, { trajectoryLength: 1.2 }), { numDiscreteUpdates: 20 }),
      opts({ numSamples: 3000, warmupSteps: 500 }),
    );
    m.runSync();
    expect(tf.memory().numTensors).toBe(before);
    expect(m.lastState?.kernel).toBe('MixedHMC');
    const x = m.getSamples().x as tf.Tensor;
    const mean = tf.mean(x).dataSync()[0] as number;
    const variance = tf.moments(x).variance.dataSync()[0] as number;
    x.dispose();
    const ess = m.summary().x?.elements[0]?.essBulk ?? 1;
    expect(Math.abs(mean - 1.3)).toBeLessThan(5 * Math.sqrt(4.36 / ess));
    expect(Math.abs(variance - 4.36)).toBeLessThan(5 * Math.sqrt((40 - 4.36 ** 2) / ess));
  });

  it('the mixture: membership probabilities and means match the brute force; continuation is exact', () => {
    const exact = mixtureExact();
    const m = new MCMC(
      new MixedHMC(new HMC(mixture, { trajectoryLength: 1.5 }), { modified: true }),
      opts({ numSamples: 1500, warmupSteps: 300 }),
    );
    m.runSync();
    withinMC(m, 'z', exact.pz, 0.02);
    withinMC(m, 'm0', [exact.m0], 0.03);
    const mk = (n: number): MCMC =>
      new MCMC(
        new MixedHMC(new HMC(mixture, { trajectoryLength: 1.5 })),
        opts({ numSamples: n, warmupSteps: 10 }),
      );
    const whole = mk(20);
    whole.runSync();
    const a = mk(10);
    a.runSync();
    const first = draws(a).z as number[];
    a.postWarmupState = a.lastState;
    a.runSync();
    expect([...first, ...(draws(a).z as number[])]).toEqual(draws(whole).z);
  });

  it('refuses NUTS and a bad numDiscreteUpdates, naming them', () => {
    expect(() => new MixedHMC(new NUTS(mixture))).toThrow(/HMC kernel.*NUTS is not supported/);
    let err: unknown;
    try {
      new MixedHMC(new HMC(mixture), { numDiscreteUpdates: 0 });
    } catch (e) {
      err = e;
    }
    expect((err as ArgumentError).argument).toBe('numDiscreteUpdates');
  });
});
