import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

// a ~ N(0, 1), x ~ N(a, 1); b ~ N(0, 1), y ~ N(b, 1): posteriors N(x/2, 1/2), N(y/2, 1/2)
const X = 1.4;
const Y = -0.8;
const model = (): void => {
  const a = ppl.sample('a', new D.Normal(0, 1));
  ppl.sample('x', new D.Normal(a, 1), { obs: tf.scalar(X) });
  const b = ppl.sample('b', new D.Normal(0, 1));
  ppl.sample('y', new D.Normal(b, 1), { obs: tf.scalar(Y) });
};

/** A hand-written Normal guide for `a`. */
const guideA = (): void => {
  const loc = ppl.param('a_loc', 0);
  const scale = ppl.param('a_scale', 1, { constraint: ppl.constraints.positive });
  ppl.sample('a', new D.Normal(loc, scale));
};
const medianA = (): Record<string, tf.Tensor> => ({ a: ppl.getParamStore().value('a_loc') });

describe('AutoCallable', () => {
  it('inside AutoGuideList with an AutoNormal for the rest: the exact posteriors', () => {
    setSeed(1);
    const guide = new ppl.AutoGuideList(model);
    guide.append(
      new ppl.AutoCallable(ppl.block(model, { expose: ['a'] }), guideA, { median: medianA }),
    );
    guide.append(new ppl.AutoNormal(ppl.block(model, { hide: ['a'] })));
    const svi = new ppl.SVI(
      model,
      guide,
      tf.train.adam(0.05),
      new ppl.TraceELBO({ numParticles: 8, vectorizeParticles: true }),
    );
    for (let i = 0; i < 300; i++) svi.step();
    const store = ppl.getParamStore();
    const aLoc = store.value('a_loc');
    const aScale = store.value('a_scale');
    // optimisation noise: Adam at 0.05 with 8 particles hovers within ~0.05 of the optimum
    expect(Math.abs((aLoc.arraySync() as number) - X / 2)).toBeLessThan(0.08);
    expect(Math.abs((aScale.arraySync() as number) - Math.SQRT1_2)).toBeLessThan(0.08);
    tf.dispose([aLoc, aScale]);
    const before = tf.memory().numTensors;
    const med = guide.median();
    expect(Object.keys(med).sort()).toEqual(['a', 'b']);
    // (AutoNormal's loc of b, one Adam iterate: 0.07 off for this seed before SVI.step stopped
    // running the guide an extra time on its first step, 0.09 after; 0.001-0.15 over seeds 3-5,
    // both signs: 0.2, which the prior median 0 misses by 0.4)
    expect(Math.abs((med.b!.arraySync() as number) - Y / 2)).toBeLessThan(0.2);
    // draws of the list: the callable's by running it, AutoNormal's from its posterior
    setSeed(2);
    const draws = guide.samplePosterior(2000);
    expect(draws.a!.shape).toEqual([2000]);
    const { mean, variance } = tf.moments(draws.a!, 0);
    // Monte Carlo: SE of the mean ~ 0.016, of the variance ~ 0.016
    expect(Math.abs((mean.arraySync() as number) - X / 2)).toBeLessThan(0.08 + 0.07);
    expect(Math.abs((variance.arraySync() as number) - 0.5)).toBeLessThan(0.12);
    const q = guide.quantiles([0.5]);
    expect(q.a!.shape).toEqual([1]);
    expect(Math.abs((q.a!.arraySync() as number[])[0]! - X / 2)).toBeLessThan(0.15);
    tf.dispose([
      mean,
      variance,
      ...Object.values(draws),
      ...Object.values(med),
      ...Object.values(q),
    ]);
    expect(tf.memory().numTensors).toBe(before);
  }, 60000);

  it('names its sites from its model; overlapping parts are refused', () => {
    const c = new ppl.AutoCallable(ppl.block(model, { expose: ['a'] }), guideA);
    expect(c.siteNames()).toEqual(['a']);
    const both = new ppl.AutoGuideList(model);
    both.append(c);
    both.append(new ppl.AutoNormal(model));
    expect(() => both.call()).toThrow(/site 'a'.*part 0.*part 1/);
  });

  it('without a median function: an empty record (Pyro); draws by running the guide', () => {
    const c = new ppl.AutoCallable(ppl.block(model, { expose: ['a'] }), guideA);
    expect(() => c.samplePosterior(3)).toThrow(/call the guide/);
    const before = tf.memory().numTensors;
    tf.dispose(Object.values(c.call()));
    const m = c.median();
    expect(m).toEqual({});
    const d = c.samplePosterior(3);
    expect(d.a!.shape).toEqual([3]);
    tf.dispose(Object.values(d));
    c.dispose(); // the prototype of its model
    ppl.clearParamStore();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a discrete site drawn by hand, next to an AutoNormal', () => {
    const mix = (): void => {
      const k = ppl.sample('k', new D.Bernoulli({ probs: 0.3 }));
      const a = ppl.sample('a', new D.Normal(tf.mul(k, 2), 1));
      ppl.sample('x', new D.Normal(a, 1), { obs: tf.scalar(1) });
    };
    const guideK = (): void => {
      const p = ppl.param('k_probs', 0.5, { constraint: ppl.constraints.unitInterval });
      ppl.sample('k', new D.Bernoulli({ probs: p }));
    };
    const list = new ppl.AutoGuideList(mix);
    list.append(new ppl.AutoCallable(ppl.block(mix, { expose: ['k'] }), guideK));
    list.append(new ppl.AutoNormal(ppl.block(mix, { hide: ['k'] })));
    expect(list.siteNames()).toEqual(['k', 'a']);
    setSeed(4);
    const svi = new ppl.SVI(mix, list, tf.train.adam(0.01), new ppl.TraceELBO());
    const l = svi.step();
    expect(Number.isFinite(l)).toBe(true);
  });

  it('refuses bad arguments and options, naming them', () => {
    const m = ppl.block(model, { expose: ['a'] });
    expect(() => new ppl.AutoCallable(m, 3 as never)).toThrow(/guide/);
    expect(() => new ppl.AutoCallable(m, guideA, { median: 1 } as never)).toThrow(/median/);
    expect(() => new ppl.AutoCallable(m, guideA, { medain: medianA } as never)).toThrow(/medain/);
    expect(() => new ppl.AutoCallable(3 as never, guideA)).toThrow(/model/);
    const c = new ppl.AutoCallable(m, guideA);
    tf.dispose(Object.values(c.call()));
    expect(() => c.quantiles([1.5])).toThrow(/quantiles/);
    expect(() => c.samplePosterior(0)).toThrow(/numSamples/);
    // Pyro's positional median
    const p = new ppl.AutoCallable(m, guideA, medianA);
    tf.dispose(Object.values(p.call()));
    const med = p.median();
    expect(Object.keys(med)).toEqual(['a']);
    tf.dispose(Object.values(med));
  });
});
