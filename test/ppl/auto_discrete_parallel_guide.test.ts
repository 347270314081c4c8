/**
 * `AutoDiscreteParallel` as an `AutoGuide` (Pyro's `AutoDiscreteParallel(AutoGuide)`): a part of
 * an `AutoGuideList` next to a continuous autoguide, with the summaries of `q` — quantiles as the
 * smallest value whose CDF reaches the level (checked against plain-JS CDFs), medians, joint
 * draws (frequencies within Monte Carlo error), the posterior distributions; bad options.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { thrown } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const pb = [0.3, 0.7];
const pc = [0.2, 0.5, 0.3];
const po = [0.6, 0.3, 0.1];
/** Three discrete families; the guide's probabilities start at these priors. */
const model = (): void => {
  ppl.plate('two', 2, () => ppl.sample('b', new D.Bernoulli({ probs: pb })));
  ppl.sample('c', new D.Categorical({ probs: pc }));
  ppl.sample('o', new D.OneHotCategorical({ probs: po }));
};

/** The smallest index whose CDF reaches q (plain JS). */
function quantileIndex(p: number[], q: number): number {
  let c = 0;
  for (let k = 0; k < p.length; k++) {
    c += p[k] as number;
    if (c >= q - 1e-7) return k;
  }
  return p.length - 1;
}

describe('AutoDiscreteParallel as an AutoGuide', { timeout: 600_000 }, () => {
  it('is an AutoGuide; quantiles, medians, draws and posteriors of q by site', () => {
    setSeed(0);
    const guide = new ppl.AutoDiscreteParallel(model);
    expect(guide).toBeInstanceOf(ppl.AutoGuide);
    expect(() => guide.median()).toThrow(/^guide: call the guide/);
    expect(guide.siteNames()).toEqual(['b', 'c', 'o']);
    expect(guide.latentSites()).toEqual([]); // no continuous sites
    tf.dispose(Object.values(guide.call()));
    const before = tf.memory().numTensors;
    const levels = [0.1, 0.25, 0.5, 0.75, 0.95];
    const q = guide.quantiles(levels);
    expect(q.b?.shape).toEqual([5, 2]);
    expect(q.c?.shape).toEqual([5]);
    expect(q.o?.shape).toEqual([5, 3]);
    const qb = q.b?.arraySync() as number[][];
    const qc = q.c?.arraySync() as number[];
    const qo = q.o?.arraySync() as number[][];
    levels.forEach((lv, i) => {
      pb.forEach((p, j) => expect(qb[i]?.[j]).toBe(quantileIndex([1 - p, p], lv)));
      expect(qc[i]).toBe(quantileIndex(pc, lv));
      const k = quantileIndex(po, lv);
      expect(qo[i]).toEqual([0, 1, 2].map((j) => (j === k ? 1 : 0)));
    });
    const med = guide.median();
    expect(med.b?.arraySync()).toEqual([0, 1]);
    expect(med.c?.arraySync()).toBe(1);
    expect(med.o?.arraySync()).toEqual([1, 0, 0]);
    tf.dispose([...Object.values(q), ...Object.values(med)]);
    // joint draws: frequencies within 5 Monte Carlo standard errors of q
    const n = 4000;
    const s = guide.samplePosterior(n);
    expect(s.b?.shape).toEqual([n, 2]);
    expect(s.c?.shape).toEqual([n]);
    expect(s.o?.shape).toEqual([n, 3]);
    const near = (f: number, p: number): void =>
      expect(Math.abs(f - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    const b = s.b?.arraySync() as number[][];
    pb.forEach((p, j) => near(b.filter((r) => r[j] === 1).length / n, p));
    const c = Array.from(s.c?.dataSync() ?? []);
    pc.forEach((p, k) => near(c.filter((v) => v === k).length / n, p));
    const o = tf.sum(s.o as tf.Tensor, 0);
    Array.from(o.dataSync()).forEach((cnt, k) => near(cnt / n, po[k] as number));
    o.dispose();
    tf.dispose(Object.values(s));
    const post = guide.getPosterior();
    const pr = (post.c as InstanceType<typeof D.Categorical>).probs;
    expect(Array.from(pr.dataSync()).map((v) => +v.toFixed(5))).toEqual(pc);
    for (const d of Object.values(post)) d.dispose();
    expect(tf.memory().numTensors).toBe(before);
    guide.dispose();
  });

  it('is a part of an AutoGuideList next to AutoDelta (Pyro GMM pattern); overlapping parts refused', () => {
    setSeed(2);
    const data = [-3.2, -2.9, -3.0, -2.7, 2.8, 3.1, 3.0, 3.3];
    const m = data.length;
    const gmm = (y: tf.Tensor): void => {
      const loc = ppl.sample('locs', new D.Normal(tf.zeros([2]), 10).toEvent(1));
      ppl.plate('data', m, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: [0.5, 0.5] }));
        ppl.sample('y', new D.Normal(tf.gather(loc, tf.cast(z, 'int32'), -1), 1), { obs: y });
      });
    };
    const y = tf.tensor1d(data);
    // a part whose sites overlap another's: refused naming the site, before any part runs
    const bad = new ppl.AutoGuideList(gmm);
    bad.append(new ppl.AutoDiscreteParallel(ppl.block(gmm, { expose: ['z'] })));
    bad.append(
      new ppl.AutoDiscreteParallel(ppl.block(gmm, { expose: ['z'] }), { prefix: 'other' }),
    );
    expect(() => bad.call(y)).toThrow(/^parts: site 'z' is a latent site of part 0/);
    expect(ppl.getParamStore().names()).toEqual([]);
    bad.dispose();

    const guide = new ppl.AutoGuideList(gmm);
    guide.append(
      new ppl.AutoDelta(ppl.block(gmm, { hide: ['z'] }), {
        initLoc: ppl.initToValue({ locs: [-1, 1] }),
      }),
    );
    guide.append(new ppl.AutoDiscreteParallel(ppl.block(gmm, { expose: ['z'] })));
    expect(guide.siteNames(y)).toEqual(['locs', 'z']);
    const svi = new ppl.SVI(gmm, guide, tf.train.adam(0.1), new ppl.TraceEnumELBO());
    svi.step(y);
    const before = tf.memory().numTensors;
    for (let i = 1; i < 150; i++) svi.step(y);
    expect(tf.memory().numTensors).toBe(before);
    expect(ppl.getParamStore().names()).toContain('AutoDiscreteParallel.z_probs');
    const med = guide.median();
    const locs = Array.from(med.locs?.dataSync() ?? []);
    expect(locs[0]).toBeLessThan(-2);
    expect(locs[1]).toBeGreaterThan(2);
    // the assignments' medians: the cluster of each point
    expect(Array.from(med.z?.dataSync() ?? [])).toEqual(data.map((_, i) => (i < 4 ? 0 : 1)));
    const q = guide.quantiles([0.05, 0.95]);
    expect(q.z?.shape).toEqual([2, m]);
    expect(q.locs?.shape).toEqual([2, 2]);
    const s = guide.samplePosterior(7);
    expect(s.z?.shape).toEqual([7, m]);
    expect(s.locs?.shape).toEqual([7, 2]);
    tf.dispose([...Object.values(med), ...Object.values(q), ...Object.values(s), y]);
    expect(tf.memory().numTensors).toBe(before - 1);
    guide.dispose();
  });

  it('refuses bad options and levels naming them, leaking nothing', () => {
    const before = tf.memory().numTensors;
    const bad: [() => unknown, string][] = [
      [() => new ppl.AutoDiscreteParallel(model, { initScale: 0.1 } as never), 'initScale'],
      [() => new ppl.AutoDiscreteParallel(model, { initLoc: 'median' } as never), 'initLoc'],
      [() => new ppl.AutoDiscreteParallel(model, { prefix: '' }), 'prefix'],
      [() => new ppl.AutoDiscreteParallel(model, { prefx: 'a' } as never), 'prefx'],
      [() => new ppl.AutoDiscreteParallel(model, null as never), 'options'],
      [() => new ppl.AutoDiscreteParallel(42 as never), 'model'],
    ];
    for (const [run, arg] of bad) {
      const err = thrown(run);
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as Error).message.startsWith(`${arg}:`)).toBe(true);
    }
    const g = new ppl.AutoDiscreteParallel(model);
    tf.dispose(Object.values(g.call()));
    const mid = tf.memory().numTensors;
    expect(() => g.quantiles([0, 0.5])).toThrow(/^quantiles:/);
    expect(() => g.quantiles([])).toThrow(/^quantiles:/);
    expect(() => g.samplePosterior(0)).toThrow(/^numSamples:/);
    expect(tf.memory().numTensors).toBe(mid);
    g.dispose();
    ppl.clearParamStore();
    expect(tf.memory().numTensors).toBe(before);
  });
});
