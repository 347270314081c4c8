import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import type { Distribution } from '../../src/distributions/distribution.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// conjugate Normal-Normal: mu ~ N(0, 10^2), y_i ~ N(mu, 1)
const ys = [1.2, 0.4, 2.1, 1.7, 0.9, 1.5, 2.4, 0.8];
const n = ys.length;
const prec = 1 / 100 + n;
const postMean = ys.reduce((a, b) => a + b, 0) / prec;
const postSd = Math.sqrt(1 / prec);
const normalModel = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 10));
  ppl.plate('data', n, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y }));
};

function fit<A extends unknown[]>(
  model: (...a: A) => void,
  guide: { call(...a: A): unknown },
  args: A,
  steps: number,
  lr: number,
  particles = 16,
): void {
  const elbo = new ppl.TraceELBO({ numParticles: particles, vectorizeParticles: true });
  for (const [rate, k] of [
    [lr, steps],
    [lr / 10, steps],
  ] as const) {
    const svi = new ppl.SVI(model, guide, tf.train.adam(rate), elbo);
    for (let i = 0; i < k; i++) svi.step(...args);
  }
}

describe('AutoNormalMessenger', { timeout: 600_000 }, () => {
  it('matches the closed-form posterior of a conjugate Normal-Normal model', () => {
    setSeed(1);
    const y = tf.tensor1d(ys);
    const guide = new ppl.AutoNormalMessenger(normalModel);
    fit(normalModel, guide, [y], 300, 0.05);
    const store = ppl.getParamStore();
    const loc = store.value('AutoNormalMessenger.locs.mu');
    const scale = store.value('AutoNormalMessenger.scales.mu');
    expect(loc.shape).toEqual([]);
    expect(loc.dataSync()[0]).toBeCloseTo(postMean, 1);
    expect(Math.abs((scale.dataSync()[0] as number) / postSd - 1)).toBeLessThan(0.15);
    tf.dispose([loc, scale]);
    // median: T(loc), no leak
    expectNoLeak(() => {
      const m = guide.median(y);
      expect(m.mu?.dataSync()[0]).toBeCloseTo(postMean, 1);
      return Object.values(m);
    });
    // Predictive draws mu from the guide: mean and sd within Monte Carlo tolerance
    const N = 2000;
    expectNoLeak(() => {
      const pred = new ppl.Predictive(normalModel, {
        guide,
        numSamples: N,
        returnSites: ['mu'],
        parallel: true,
      });
      const s = pred.call(y);
      const d = Array.from(s.mu?.dataSync() ?? []);
      expect(d.length).toBe(N);
      const m = d.reduce((a, b) => a + b, 0) / N;
      const sd = Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1));
      expect(Math.abs(m - postMean)).toBeLessThan(0.05 + (5 * postSd) / Math.sqrt(N));
      expect(Math.abs(sd / postSd - 1)).toBeLessThan(0.2);
      return Object.values(s);
    });
    y.dispose();
  });

  it('lets a subclass override one site, reading upstream values (Pyro docs example)', () => {
    setSeed(2);
    const model = (data: tf.Tensor): void => {
      const a = ppl.sample('a', new D.Normal(0, 1));
      const b = ppl.sample('b', new D.Normal(0, 1));
      const c = ppl.sample('c', new D.Normal(tf.add(a, b), 1));
      ppl.sample('obs', new D.Normal(c, 1), { obs: data });
    };
    const seen: number[] = [];
    class MyGuide extends ppl.AutoNormalMessenger<[tf.Tensor]> {
      override getPosterior(name: string, prior: Distribution): ppl.PosteriorOrValue {
        if (name !== 'c') return super.getPosterior(name, prior);
        const bias = ppl.param('c_bias', () => tf.zeros([]));
        const weight = ppl.param('c_weight', () => tf.ones([]), {
          constraint: ppl.constraints.positive,
        });
        const scale = ppl.param('c_scale', () => tf.ones([]), {
          constraint: ppl.constraints.positive,
        });
        const a = this.upstreamValue('a') as tf.Tensor;
        const b = this.upstreamValue('b') as tf.Tensor;
        seen.push(a.rank);
        return new D.Normal(tf.add(bias, tf.mul(weight, tf.add(a, b))), scale);
      }
    }
    const data = tf.scalar(2);
    const guide = new MyGuide(model);
    const tr = ppl.trace(() => guide.call(data)).getTrace();
    // the guide trace holds the latent sites only, each with its posterior
    expect(tr.latentSites().map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect(tr.get('obs')).toBeUndefined();
    tr.dispose();
    const names = ppl.getParamStore().names();
    expect(names).toContain('c_weight');
    expect(names).toContain('AutoNormalMessenger.locs.a');
    expect(names).not.toContain('AutoNormalMessenger.locs.c');
    expect(seen.length).toBe(1);
    // the conditional c | a, b: E[c | a, b, obs] = (a + b + obs) / 2, sd 1/sqrt(2)
    fit(model, guide, [data], 250, 0.05, 8);
    const w = ppl.getParamStore().value('c_weight');
    const bias = ppl.getParamStore().value('c_bias');
    const sc = ppl.getParamStore().value('c_scale');
    expect(w.dataSync()[0]).toBeCloseTo(0.5, 1);
    expect(bias.dataSync()[0]).toBeCloseTo(1, 1);
    expect(sc.dataSync()[0]).toBeCloseTo(Math.SQRT1_2, 1);
    tf.dispose([w, bias, sc, data]);
  });

  it('gives local latents per-member parameters not batched by vectorized particles', () => {
    setSeed(3);
    const model = (y: tf.Tensor): void => {
      const tau = ppl.sample('tau', new D.HalfNormal(2));
      ppl.plate('groups', 5, () => {
        const z = ppl.sample('z', new D.Normal(0, tau));
        ppl.sample('y', new D.Normal(z, 0.5), { obs: y });
      });
    };
    const y = tf.tensor1d([0.5, -1, 2, 0.1, 1.2]);
    const guide = new ppl.AutoNormalMessenger(model, { initScale: 0.05 });
    fit(model, guide, [y], 3, 0.01, 4);
    const store = ppl.getParamStore();
    const shapes = Object.fromEntries(
      ['locs.tau', 'scales.tau', 'locs.z', 'scales.z'].map((k) => {
        const v = store.value(`AutoNormalMessenger.${k}`);
        const sh = v.shape;
        v.dispose();
        return [k, sh];
      }),
    );
    expect(shapes).toEqual({
      'locs.tau': [],
      'scales.tau': [],
      'locs.z': [5],
      'scales.z': [5],
    });
    // standalone draws lie in the support and leak nothing
    expectNoLeak(() => {
      const d = guide.call(y);
      expect(d.tau?.dataSync()[0]).toBeGreaterThan(0);
      expect(d.z?.shape).toEqual([5]);
      return Object.values(d);
    });
    y.dispose();
  });

  it('subsampled plates: full-size parameters gathered per run; amortizedPlates share one', () => {
    setSeed(7);
    const N = 6;
    const model = (y: tf.Tensor): void => {
      ppl.plate('data', N, { subsampleSize: 3 }, (idx) => {
        const z = ppl.sample('z', new D.Normal(0, 1));
        ppl.sample('y', new D.Normal(z, 1), { obs: tf.gather(y, idx) });
      });
    };
    const y = tf.tensor1d([3, -3, 1, 0, 2, -1]);
    const shapeOf = (name: string): number[] => {
      const v = ppl.getParamStore().value(name);
      const sh = v.shape;
      v.dispose();
      return sh;
    };
    const full = new ppl.AutoNormalMessenger(model, { initScale: 0.05 });
    for (const lr of [0.1, 0.01]) {
      const svi = new ppl.SVI(model, full, tf.train.adam(lr), new ppl.TraceELBO());
      for (let i = 0; i < 300; i++) svi.step(y);
    }
    expect(shapeOf('AutoNormalMessenger.locs.z')).toEqual([N]);
    // each member's posterior mean y_i / 2 (every member is visited about half of the steps)
    const loc = ppl.getParamStore().value('AutoNormalMessenger.locs.z');
    const l = Array.from(loc.dataSync());
    loc.dispose();
    const yv = y.arraySync() as number[];
    l.forEach((v, i) => expect(Math.abs(v - (yv[i] as number) / 2)).toBeLessThan(0.2));
    expectNoLeak(() => {
      const d = full.call(y);
      expect(d.z?.shape).toEqual([3]);
      return Object.values(d);
    });
    const shared = new ppl.AutoNormalMessenger(model, {
      prefix: 'shared',
      amortizedPlates: ['data'],
    });
    new ppl.SVI(model, shared, tf.train.adam(0.1), new ppl.TraceELBO()).step(y);
    expect(shapeOf('shared.locs.z')).toEqual([]);
    y.dispose();
  });

  it('refuses misspelled options and discrete sites, naming them, before any work', () => {
    const before = tf.memory().numTensors;
    expect(() => new ppl.AutoNormalMessenger(normalModel, { initscale: 0.1 } as never)).toThrow(
      /^initscale:/,
    );
    expect(() => new ppl.AutoNormalMessenger(normalModel, { initScale: -1 })).toThrow(
      /^initScale:/,
    );
    expect(() => new ppl.AutoNormalMessenger(normalModel, { initLoc: 'middle' as never })).toThrow(
      /^initLoc:/,
    );
    const discrete = (): void => {
      ppl.sample('k', new D.Bernoulli({ probs: 0.3 }));
    };
    const g = new ppl.AutoNormalMessenger(discrete);
    expect(() => g.call()).toThrow(/^k:.*discrete/);
    // a plate subsampled with indices the model gives: the guide cannot know them
    const given = (): void => {
      ppl.plate('data', 4, { subsample: [0, 2] }, () => ppl.sample('z', new D.Normal(0, 1)));
    };
    expect(() => new ppl.AutoNormalMessenger(given).call()).toThrow(/^z:.*subsampleSize/);
    ppl.clearParamStore();
    expect(tf.memory().numTensors).toBe(before);
  });
});

// mu ~ N(0, 5^2); theta_j ~ N(mu, 1); y_j ~ N(theta_j, 1): Gaussian, with the exact conditional
// theta_j | mu, y = N((mu + y_j) / 2, 1/2) and marginal y_j | mu ~ N(mu, 2)
const yh = [2.5, -0.4, 1.3, 3.1];
const J = yh.length;
const hier = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 5));
  ppl.plate('J', J, () => {
    const theta = ppl.sample('theta', new D.Normal(mu, 1));
    ppl.sample('y', new D.Normal(theta, 1), { obs: y });
  });
};

describe('AutoHierarchicalNormalMessenger', { timeout: 600_000 }, () => {
  it('learns the exact conditional theta | mu: weights 1/2, locs y/2, scale sqrt(1/2)', () => {
    setSeed(4);
    const y = tf.tensor1d(yh);
    const guide = new ppl.AutoHierarchicalNormalMessenger(hier, { hierarchicalSites: ['theta'] });
    // starts centered on the prior mean (weight 1): the initial median of theta is mu's
    const m0 = guide.median(y);
    expect(Array.from(m0.theta?.dataSync() ?? [])).toEqual(new Array(J).fill(m0.mu?.dataSync()[0]));
    tf.dispose(Object.values(m0));
    const names = ppl.getParamStore().names();
    expect(names).toContain('AutoHierarchicalNormalMessenger.weights.theta');
    expect(names).not.toContain('AutoHierarchicalNormalMessenger.weights.mu');
    fit(hier, guide, [y], 600, 0.03, 16);
    const store = ppl.getParamStore();
    const read = (k: string): number[] => {
      const v = store.value(`AutoHierarchicalNormalMessenger.${k}`);
      const out = Array.from(v.dataSync());
      v.dispose();
      return out;
    };
    const precMu = 1 / 25 + J / 2;
    const meanMu = yh.reduce((a, b) => a + b, 0) / 2 / precMu;
    expect(read('locs.mu')[0]).toBeCloseTo(meanMu, 1);
    expect(Math.abs((read('scales.mu')[0] as number) / Math.sqrt(1 / precMu) - 1)).toBeLessThan(
      0.15,
    );
    const w = read('weights.theta');
    const loc = read('locs.theta');
    const sc = read('scales.theta');
    for (let j = 0; j < J; j++) {
      expect(Math.abs((w[j] as number) - 0.5)).toBeLessThan(0.1);
      expect(Math.abs((loc[j] as number) - (yh[j] as number) / 2)).toBeLessThan(0.15);
      expect(Math.abs((sc[j] as number) / Math.SQRT1_2 - 1)).toBeLessThan(0.15);
    }
    // posterior draws of theta from the guide (Predictive): E[theta_j] = (E[mu] + y_j) / 2
    expectNoLeak(() => {
      const N = 2000;
      const s = new ppl.Predictive(hier, {
        guide,
        numSamples: N,
        returnSites: ['theta'],
        parallel: true,
      }).call(y);
      const th = s.theta?.arraySync() as number[][];
      for (let j = 0; j < J; j++) {
        const m = th.reduce((a, r) => a + (r[j] as number), 0) / N;
        expect(Math.abs(m - (meanMu + (yh[j] as number)) / 2)).toBeLessThan(0.12);
      }
      return Object.values(s);
    });
    y.dispose();
  });

  it('refuses bad options naming them, and a site with no prior mean naming the site', () => {
    const before = tf.memory().numTensors;
    const M = ppl.AutoHierarchicalNormalMessenger;
    expect(() => new M(hier, { initWeight: 0 })).toThrow(/^initWeight:/);
    expect(() => new M(hier, { weightType: 'vector' as never })).toThrow(/^weightType:/);
    expect(() => new M(hier, { hierarchicalSites: 'theta' as never })).toThrow(
      /^hierarchicalSites:/,
    );
    expect(() => new M(hier, { hierarchical_sites: ['theta'] } as never)).toThrow(
      /^hierarchical_sites:.*hierarchicalSites/,
    );
    const cauchy = (): void => {
      ppl.sample('c', new D.Cauchy(0, 1));
    };
    expect(() => new M(cauchy).call()).toThrow(/^c:.*no mean/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('AutoRegressiveMessenger', { timeout: 600_000 }, () => {
  // x ~ N(0, 1); y ~ N(-x, 1); obs ~ N(y, 1) at 1.5: the posterior is Gaussian with mean
  // (-0.5, 1), variances (2/3, 2/3) and covariance -1/3 (correlation -1/2)
  const corrModel = (o: tf.Tensor): void => {
    const x = ppl.sample('x', new D.Normal(0, 1));
    const y = ppl.sample('y', new D.Normal(tf.neg(x), 1));
    ppl.sample('obs', new D.Normal(y, 1), { obs: o });
  };
  function drawsOf(guide: { call(o: tf.Tensor): unknown }, o: tf.Tensor, N: number) {
    const s = new ppl.Predictive(corrModel, {
      guide,
      numSamples: N,
      returnSites: ['x', 'y'],
      parallel: true,
    }).call(o);
    const x = Array.from(s.x?.dataSync() ?? []);
    const y = Array.from(s.y?.dataSync() ?? []);
    tf.dispose(Object.values(s));
    const mx = x.reduce((a, b) => a + b, 0) / N;
    const my = y.reduce((a, b) => a + b, 0) / N;
    let [sxx, syy, sxy] = [0, 0, 0];
    for (let i = 0; i < N; i++) {
      sxx += ((x[i] as number) - mx) ** 2;
      syy += ((y[i] as number) - my) ** 2;
      sxy += ((x[i] as number) - mx) * ((y[i] as number) - my);
    }
    return { mx, my, corr: sxy / Math.sqrt(sxx * syy) };
  }

  it('captures the sign of a posterior correlation that mean field cannot', () => {
    setSeed(5);
    const o = tf.scalar(1.5);
    const guide = new ppl.AutoRegressiveMessenger(corrModel);
    fit(corrModel, guide, [o], 400, 0.03, 16);
    const before = tf.memory().numTensors;
    const r = drawsOf(guide, o, 4000);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(r.mx + 0.5)).toBeLessThan(0.1);
    expect(Math.abs(r.my - 1)).toBeLessThan(0.1);
    expect(r.corr).toBeLessThan(-0.25);
    // the mean-field guide's draws are uncorrelated (|corr| within Monte Carlo error)
    ppl.clearParamStore();
    const mf = new ppl.AutoNormalMessenger(corrModel);
    fit(corrModel, mf, [o], 10, 0.03, 4);
    expect(Math.abs(drawsOf(mf, o, 4000).corr)).toBeLessThan(4 / Math.sqrt(4000));
    o.dispose();
  });

  it('keeps draws in a constrained support and refuses bad options and sites', () => {
    setSeed(6);
    const model = (): void => {
      const s = ppl.sample('s', new D.LogNormal(0, 1));
      ppl.sample('t', new D.Gamma(2, tf.div(1, s)));
    };
    const guide = new ppl.AutoRegressiveMessenger(model, { initScale: 0.5 });
    const tr = ppl.trace(() => guide.call()).getTrace();
    for (const n of ['s', 't']) {
      const site = tr.get(n);
      expect(site?.value?.dataSync()[0]).toBeGreaterThan(0);
      const lp = site?.fn?.logProb(site.value as tf.Tensor);
      expect(Number.isFinite(lp?.dataSync()[0])).toBe(true);
      lp?.dispose();
    }
    // s: log z = loc + scale * log x, log x ~ N(0, 1), so q = LogNormal(loc, scale) exactly;
    // scored at the cached draw and at a copy (the inverse path)
    const site = tr.get('s');
    const store = ppl.getParamStore();
    const loc = store.value('AutoRegressiveMessenger.locs.s');
    const sc = store.value('AutoRegressiveMessenger.scales.s');
    const ref = new D.LogNormal(loc, sc);
    const z = site?.value as tf.Tensor;
    const zCopy = z.clone();
    const want = tf.tidy(() => ref.logProb(z).dataSync()[0] as number);
    const l1 = site?.fn?.logProb(z) as tf.Tensor;
    const l2 = site?.fn?.logProb(zCopy) as tf.Tensor;
    expect(l1.dataSync()[0]).toBeCloseTo(want, 4);
    expect(l2.dataSync()[0]).toBeCloseTo(want, 4);
    tf.dispose([loc, sc, zCopy, l1, l2]);
    ref.dispose();
    tr.dispose();
    const before = tf.memory().numTensors;
    expect(() => new ppl.AutoRegressiveMessenger(model, { initScale: 0 })).toThrow(/^initScale:/);
    expect(() => new ppl.AutoRegressiveMessenger(model, { init_scale: 0.1 } as never)).toThrow(
      /^init_scale:.*initScale/,
    );
    const pois = (): void => {
      ppl.sample('k', new D.Poisson(2));
    };
    expect(() => new ppl.AutoRegressiveMessenger(pois).call()).toThrow(/^k:.*discrete/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('AutoMessenger guides on constrained vector sites', { timeout: 600_000 }, () => {
  // p ~ Dirichlet(1, 1, 1); k_i ~ Categorical(p): the posterior mean of p is (1 + n_k) / (3 + n)
  const counts = [0, 0, 1, 2, 2, 2, 2, 1, 2, 2];
  const dirModel = (k: tf.Tensor): void => {
    const p = ppl.sample('p', new D.Dirichlet([1, 1, 1]));
    ppl.plate('data', counts.length, () =>
      ppl.sample('k', new D.Categorical({ probs: p }), { obs: k }),
    );
  };
  const makers = {
    AutoNormalMessenger: () => new ppl.AutoNormalMessenger(dirModel),
    AutoHierarchicalNormalMessenger: () => new ppl.AutoHierarchicalNormalMessenger(dirModel),
    AutoRegressiveMessenger: () => new ppl.AutoRegressiveMessenger(dirModel),
  };
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: simplex draws, unconstrained [2] parameters, steady memory over SVI steps`, () => {
      setSeed(8);
      const k = tf.tensor1d(counts);
      const guide = make();
      const elbo = new ppl.TraceELBO({ numParticles: 8, vectorizeParticles: true });
      const svi = new ppl.SVI(dirModel, guide, tf.train.adam(0.05), elbo);
      svi.step(k);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 300; i++) svi.step(k);
      expect(tf.memory().numTensors).toBe(before);
      const loc = ppl.getParamStore().value(`${name}.locs.p`);
      expect(loc.shape).toEqual([2]);
      loc.dispose();
      expectNoLeak(() => {
        const N = 1000;
        const s = new ppl.Predictive(dirModel, {
          guide,
          numSamples: N,
          returnSites: ['p'],
          parallel: true,
        }).call(k);
        const p = s.p?.arraySync() as number[][];
        const n = counts.length;
        for (let j = 0; j < 3; j++) {
          const exact = (1 + counts.filter((c) => c === j).length) / (3 + n);
          const m = p.reduce((a, r) => a + (r[j] as number), 0) / N;
          expect(Math.abs(m - exact)).toBeLessThan(0.05);
        }
        p.forEach((r) => expect(Math.abs(r.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-4));
        return Object.values(s);
      });
      k.dispose();
    });
  }
});
