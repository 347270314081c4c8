/**
 * Pyro's reparameterizers CircularReparam, SplitReparam and ProjectedNormalReparam: the rewritten
 * trace against the original density, NUTS on the rewritten models against grid posteriors, and
 * errors naming the site before any work.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** log I0(k) by its series (float64). */
function logI0(k: number): number {
  let s = 0;
  let term = 1;
  for (let j = 0; j < 200; j++) {
    if (j > 0) term *= (k * k) / (4 * j * j);
    s += term;
  }
  return Math.log(s);
}
const vmLog = (x: number, mu: number, k: number): number =>
  k * Math.cos(x - mu) - Math.log(2 * Math.PI) - logI0(k);

/** Mean and its Monte Carlo standard error from draws (by the effective sample size). */
function meanSe(x: number[], ess: number): { mean: number; se: number } {
  const n = x.length;
  const mean = x.reduce((a, v) => a + v, 0) / n;
  const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(v / ess) };
}

describe('CircularReparam', () => {
  // posterior of an angle whose mass straddles the wrap-around point ±π
  const ys = [-3.0, 3.1, -2.8];
  const model = (): void => {
    const theta = ppl.sample('theta', new D.VonMises(3.0, 2));
    ppl.plate('N', ys.length, () =>
      ppl.sample('y', new D.VonMises(theta, 1), { obs: tf.tensor1d(ys) }),
    );
  };
  /** The exact posterior on a grid over [-π, π). */
  function gridMoments(): { cos: number; sin: number; pPos: number } {
    const m = 4000;
    let z = 0;
    let c = 0;
    let s = 0;
    let pos = 0;
    for (let i = 0; i < m; i++) {
      const th = -Math.PI + ((i + 0.5) * 2 * Math.PI) / m;
      let lp = vmLog(th, 3.0, 2);
      for (const y of ys) lp += vmLog(y, th, 1);
      const w = Math.exp(lp);
      z += w;
      c += w * Math.cos(th);
      s += w * Math.sin(th);
      if (th > 0) pos += w;
    }
    return { cos: c / z, sin: s / z, pPos: pos / z };
  }

  it('the trace: theta = wrap(theta_unwrapped) in [-π, π), carrying log VM(theta) as its density', () => {
    const u = tf.tensor1d([7.5, -4, 0.3]);
    const m = (): void => {
      ppl.plate('K', 3, () => ppl.sample('a', new D.VonMises(1, 2)));
    };
    const rm = ppl.reparam(m, { a: new ppl.CircularReparam() });
    const tr = ppl.trace(ppl.condition(rm, { a_unwrapped: u })).getTrace();
    const wrap = (v: number): number => v - 2 * Math.PI * Math.floor((v + Math.PI) / (2 * Math.PI));
    expect(tr.value('a')).toBeAllclose([7.5, -4, 0.3].map(wrap), { atol: 1e-5 });
    expect(tr.get('a')?.isObserved).toBe(true);
    const lp = tr.logProbSum().dataSync()[0] as number;
    const want = [7.5, -4, 0.3].reduce((acc, v) => acc + vmLog(wrap(v), 1, 2), 0);
    expect(lp).toBeCloseTo(want, 4);
    tr.dispose();
    u.dispose();
  });

  it('NUTS on a von Mises posterior centred on ±π matches the exact grid posterior (wrap-around)', async () => {
    const ref = gridMoments();
    expect(ref.pPos).toBeGreaterThan(0.2); // the mass is on both sides of the cut
    expect(ref.pPos).toBeLessThan(0.8);
    const rm = ppl.reparam(model, { theta: new ppl.CircularReparam() });
    const before = tf.memory().numTensors;
    const mcmc = new ppl.MCMC(new ppl.NUTS(rm), {
      numSamples: 1500,
      warmupSteps: 400,
      progressBar: false,
      seed: 11,
    });
    await mcmc.run();
    const s = mcmc.getSamples();
    const th = Array.from((s.theta as tf.Tensor).dataSync());
    expect(th.every((v) => v >= -Math.PI && v < Math.PI)).toBe(true);
    const ess = mcmc.summary().theta_unwrapped?.elements[0]?.essBulk as number;
    expect(ess).toBeGreaterThan(100);
    const c = meanSe(th.map(Math.cos), ess);
    const sn = meanSe(th.map(Math.sin), ess);
    const pos = meanSe(
      th.map((v) => (v > 0 ? 1 : 0)),
      ess,
    );
    expect(Math.abs(c.mean - ref.cos)).toBeLessThan(4 * c.se + 0.01);
    expect(Math.abs(sn.mean - ref.sin)).toBeLessThan(4 * sn.se + 0.01);
    expect(Math.abs(pos.mean - ref.pPos)).toBeLessThan(4 * pos.se + 0.01);
    tf.dispose(Object.values(s));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('errors name the site: not a VonMises, an observed site (no tensor left behind)', () => {
    const before = tf.memory().numTensors;
    const bad = (): void => {
      ppl.sample('g', new D.Normal(0, 1));
    };
    expect(() => ppl.trace(ppl.reparam(bad, { g: new ppl.CircularReparam() })).getTrace()).toThrow(
      /CircularReparam: site 'g' has a Normal; expected a VonMises/,
    );
    const obs = (): void => {
      ppl.sample('o', new D.VonMises(0, 1), { obs: 1 });
    };
    expect(() => ppl.trace(ppl.reparam(obs, { o: new ppl.CircularReparam() })).getTrace()).toThrow(
      /site 'o' is observed/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('SplitReparam', () => {
  const loc = [0.5, -1, 2, 0, 1];
  const yObs = 13; // moves the posterior mean of each x_i by (13 - 2.5) / 5.25 = 2 from its prior
  const model = (): void => {
    const x = ppl.sample('x', new D.Normal(tf.tensor1d(loc), 1).toEvent(1));
    ppl.sample('y', new D.Normal(tf.sum(x), 0.5), { obs: yObs });
  };
  /** x ~ N(loc, I), y ~ N(1'x, 0.25): the posterior mean loc + (y - 1'loc) / 5.25 per element. */
  const postMean = (): number[] => {
    const sumLoc = loc.reduce((a, b) => a + b, 0);
    return loc.map((l) => l + (yObs - sumLoc) / 5.25);
  };

  it('parts x_split_i of sizes [2, 3]; x their concatenation; the log joint equals the original one', () => {
    const rm = ppl.reparam(model, { x: new ppl.SplitReparam([2, 3], -1) });
    const p0 = tf.tensor1d([0.1, 0.2]);
    const p1 = tf.tensor1d([-0.3, 0.4, 1.5]);
    const tr = ppl.trace(ppl.condition(rm, { x_split_0: p0, x_split_1: p1 })).getTrace();
    expect(tr.get('x_split_0')?.value?.shape).toEqual([2]);
    expect(tr.get('x_split_1')?.value?.shape).toEqual([3]);
    expect(tr.value('x')).toBeAllclose([0.1, 0.2, -0.3, 0.4, 1.5]);
    const x = tf.tensor1d([0.1, 0.2, -0.3, 0.4, 1.5]);
    const ref = ppl.trace(ppl.condition(model, { x })).getTrace();
    expect(tr.logProbSum()).toBeAllclose(ref.logProbSum().dataSync()[0] as number, {
      atol: 1e-4,
    });
    tr.dispose();
    ref.dispose();
    tf.dispose([p0, p1, x]);
  });

  it('NUTS on the split model gives the conjugate posterior of x', async () => {
    const rm = ppl.reparam(model, { x: new ppl.SplitReparam([2, 3], -1) });
    const mcmc = new ppl.MCMC(new ppl.NUTS(rm), {
      numSamples: 800,
      warmupSteps: 300,
      progressBar: false,
      seed: 4,
    });
    await mcmc.run();
    const s = mcmc.getSamples();
    expect(Object.keys(s).sort()).toEqual(['x', 'x_split_0', 'x_split_1']);
    const want = postMean();
    const sd = Math.sqrt(1 - 1 / 5.25);
    const xs = s.x as tf.Tensor;
    const mean = Array.from(tf.mean(xs, 0).dataSync());
    const sum = mcmc.summary();
    const ess = Math.min(
      ...[...(sum.x_split_0?.elements ?? []), ...(sum.x_split_1?.elements ?? [])].map(
        (e) => e.essBulk,
      ),
    );
    expect(ess).toBeGreaterThan(50);
    mean.forEach((m, i) => {
      const se = sd / Math.sqrt(ess);
      expect(Math.abs(m - (want[i] as number))).toBeLessThan(4.5 * se);
    });
    tf.dispose(Object.values(s));
  });

  it('SVI fits the parts (each its own guide site, started at the feasible point): AutoNormal', () => {
    setSeed(5);
    const rm = ppl.reparam(model, { x: new ppl.SplitReparam([2, 3], -1) });
    const guide = new ppl.AutoNormal(rm);
    const svi = new ppl.SVI(rm, guide, tf.train.adam(0.1), new ppl.TraceELBO());
    for (let i = 0; i < 400; i++) svi.step();
    expectNoLeak(() => {
      svi.step();
    });
    const med = guide.median();
    const want = postMean();
    expect(Object.keys(med).sort()).toEqual(['x_split_0', 'x_split_1']);
    expect(med.x_split_0).toBeAllclose(want.slice(0, 2), { atol: 0.3 });
    expect(med.x_split_1).toBeAllclose(want.slice(2), { atol: 0.3 });
    tf.dispose(Object.values(med));
    guide.dispose();
  });

  it('the parts get different guides: AutoDelta for x_split_0, AutoNormal for x_split_1 (AutoGuideList of blocked models)', () => {
    setSeed(6);
    const rm = ppl.reparam(model, { x: new ppl.SplitReparam([2, 3], -1) });
    const guide = new ppl.AutoGuideList(rm);
    guide.append(new ppl.AutoDelta(ppl.block(rm, { expose: ['x_split_0'] })));
    guide.append(new ppl.AutoNormal(ppl.block(rm, { hide: ['x_split_0'] })));
    const svi = new ppl.SVI(rm, guide, tf.train.adam(0.1), new ppl.TraceELBO());
    for (let i = 0; i < 400; i++) svi.step();
    expectNoLeak(() => {
      svi.step();
    });
    const med = guide.median();
    // the MAP of x (AutoDelta's part) is the posterior mean of this Gaussian posterior
    const want = postMean();
    expect(med.x_split_0).toBeAllclose(want.slice(0, 2), { atol: 0.3 });
    expect(med.x_split_1).toBeAllclose(want.slice(2), { atol: 0.3 });
    const names = ppl.getParamStore().names();
    expect(names.some((n) => n.startsWith('AutoDelta.') && n.includes('x_split_0'))).toBe(true);
    expect(names.some((n) => n.startsWith('AutoNormal.') && n.includes('x_split_1'))).toBe(true);
    tf.dispose(Object.values(med));
    guide.dispose();
  });

  it('errors: sections not summing to the size, a batch dim, a simplex split, bad arguments', () => {
    const before = tf.memory().numTensors;
    expect(() => new ppl.SplitReparam([], -1)).toThrow(/sections/);
    expect(() => new ppl.SplitReparam([2, 0], -1)).toThrow(/sections/);
    expect(() => new ppl.SplitReparam([2, 3], 0)).toThrow(/dim/);
    const run = (m: () => void, r: ppl.Reparam, site: string): (() => void) => {
      return () => {
        ppl.trace(ppl.reparam(m, { [site]: r })).getTrace();
      };
    };
    expect(run(model, new ppl.SplitReparam([2, 2], -1), 'x')).toThrow(
      /sum to 4; site 'x' has size 5/,
    );
    const batch = (): void => {
      ppl.sample('b', new D.Normal(tf.zeros([5]), 1));
    };
    expect(run(batch, new ppl.SplitReparam([2, 3], -1), 'b')).toThrow(
      /site 'b' has event shape \[\]; dim -1 is not one of its event dims/,
    );
    const simplex = (): void => {
      ppl.sample('p', new D.Dirichlet([1, 1, 1]));
    };
    expect(run(simplex, new ppl.SplitReparam([1, 2], -1), 'p')).toThrow(/site 'p'.*simplex/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('ProjectedNormalReparam', () => {
  /** log ProjectedNormal density by the ray integral (float64), as in the distribution tests. */
  function pnLog(c: number[], x: number[]): number {
    const d = c.length;
    const t = c.reduce((a, ci, i) => a + ci * (x[i] as number), 0);
    const c2 = c.reduce((a, ci) => a + ci * ci, 0);
    const n = 4000;
    const hi = Math.max(t, 0) + 12;
    const h = hi / n;
    let s = 0;
    for (let i = 1; i <= n; i++) {
      const r = i * h;
      s += (i === n ? 0.5 : 1) * r ** (d - 1) * Math.exp(-0.5 * (r - t) ** 2);
    }
    return Math.log(s * h) - 0.5 * (c2 - t * t) - (d / 2) * Math.log(2 * Math.PI);
  }
  const c = [1, 0.5];
  const obs = [-0.6, 0.9];
  const model = (): void => {
    const x = ppl.sample('x', new D.ProjectedNormal(c));
    ppl.sample('y', new D.Normal(tf.mul(x, 1.5), 0.7).toEvent(1), { obs: tf.tensor1d(obs) });
  };

  it('the trace: x = normalize(x_normal + c), x_normal ~ N(0, I), x a point mass without density', () => {
    setSeed(1);
    const rm = ppl.reparam(model, { x: new ppl.ProjectedNormalReparam() });
    const tr = ppl.trace(rm).getTrace();
    const y = Array.from(tr.value('x_normal').dataSync());
    const v = [(y[0] as number) + 1, (y[1] as number) + 0.5];
    const nrm = Math.hypot(...v);
    expect(tr.value('x')).toBeAllclose(
      v.map((a) => a / nrm),
      { atol: 1e-5 },
    );
    const lpx = tr.get('x')?.fn?.logProb(tr.value('x'));
    expect(lpx).toBeAllclose(0);
    lpx?.dispose();
    tr.dispose();
  });

  it('NUTS through the reparam matches the grid posterior on the circle; without it a clear error', async () => {
    const m = 720;
    let z = 0;
    let e0 = 0;
    let e1 = 0;
    for (let i = 0; i < m; i++) {
      const a = -Math.PI + ((i + 0.5) * 2 * Math.PI) / m;
      const x = [Math.cos(a), Math.sin(a)];
      let lp = pnLog(c, x);
      x.forEach((xi, j) => (lp += -0.5 * ((1.5 * xi - (obs[j] as number)) / 0.7) ** 2));
      const w = Math.exp(lp);
      z += w;
      e0 += w * (x[0] as number);
      e1 += w * (x[1] as number);
    }
    const rm = ppl.reparam(model, { x: new ppl.ProjectedNormalReparam() });
    const mcmc = new ppl.MCMC(new ppl.NUTS(rm), {
      numSamples: 1000,
      warmupSteps: 300,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run();
    const s = mcmc.getSamples();
    const xs = (s.x as tf.Tensor).arraySync() as number[][];
    const ess = Math.min(...(mcmc.summary().x_normal?.elements.map((e) => e.essBulk) ?? []));
    expect(ess).toBeGreaterThan(100);
    const a = meanSe(
      xs.map((r) => r[0] as number),
      ess,
    );
    const b = meanSe(
      xs.map((r) => r[1] as number),
      ess,
    );
    expect(Math.abs(a.mean - e0 / z)).toBeLessThan(4 * a.se + 0.01);
    expect(Math.abs(b.mean - e1 / z)).toBeLessThan(4 * b.se + 0.01);
    tf.dispose(Object.values(s));
    const plain = new ppl.MCMC(new ppl.NUTS(model), { numSamples: 5, progressBar: false });
    await expect(plain.run()).rejects.toThrow(/ProjectedNormalReparam/);
  });

  it('SVI with AutoNormal and Predictive work on the reparameterized model (in a plate)', () => {
    setSeed(3);
    const cs = tf.tensor2d([
      [0, 0, 3],
      [3, 0, 0],
    ]);
    const m2 = (): void => {
      ppl.plate('K', 2, () => ppl.sample('u', new D.ProjectedNormal(cs)));
    };
    const rm = ppl.reparam(m2, { u: new ppl.ProjectedNormalReparam() });
    const guide = new ppl.AutoNormal(rm);
    const svi = new ppl.SVI(rm, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 50; i++) svi.step();
    expectNoLeak(() => {
      svi.step();
    });
    const pred = new ppl.Predictive(rm, { guide, numSamples: 200 });
    const out = pred.call();
    const u = out.u as tf.Tensor;
    expect(u.shape).toEqual([200, 2, 3]);
    const norms = tf.norm(u, 'euclidean', -1);
    expect(norms).toBeAllclose(tf.onesLike(norms), { atol: 1e-5 });
    const mean = tf.mean(u, 0);
    const mv = mean.arraySync() as number[][];
    expect(mv[0]?.[2]).toBeGreaterThan(0.7); // around the north pole
    expect(mv[1]?.[0]).toBeGreaterThan(0.7); // around e_1
    tf.dispose([norms, mean, cs, ...Object.values(out)]);
    guide.dispose();
  });

  it('errors name the site: not a ProjectedNormal, observed (no tensor left behind)', () => {
    const before = tf.memory().numTensors;
    const bad = (): void => {
      ppl.sample('n', new D.Normal(tf.zeros([2]), 1).toEvent(1));
    };
    expect(() =>
      ppl.trace(ppl.reparam(bad, { n: new ppl.ProjectedNormalReparam() })).getTrace(),
    ).toThrow(/ProjectedNormalReparam: site 'n' has a Normal/);
    const obs = (): void => {
      ppl.sample('o', new D.ProjectedNormal([1, 0]), { obs: tf.tensor1d([0, 1]) });
    };
    expect(() =>
      ppl.trace(ppl.reparam(obs, { o: new ppl.ProjectedNormalReparam() })).getTrace(),
    ).toThrow(/site 'o' is observed/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
