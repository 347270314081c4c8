/**
 * `AutoGuideList` on a model whose split is natural: two independent conjugate Normal-Normal
 * blocks, `a` (MAP by `AutoDelta`) and `b` (mean-field Normal by `AutoNormal`). The ELBO of the
 * list is the sum of the two parts' ELBOs, so its optimum is each part's optimum alone: `a` at the
 * MAP (= the posterior mean, `m_a`), `b` at the exact posterior `N(m_b, s_b²)`:
 * `1/s² = 1/s0² + n/sigma²`, `m = s² Σ y / sigma²` (prior mean 0).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const ya = [1.1, 0.4, 1.9, 1.3];
const yb = [-0.7, -0.2, -1.1];
type Args = [tf.Tensor, tf.Tensor];
const model = (oa: tf.Tensor, ob: tf.Tensor): void => {
  const a = ppl.sample('a', new D.Normal(0, 2));
  const b = ppl.sample('b', new D.Normal(0, 1));
  ppl.plate('A', ya.length, () => ppl.sample('ya', new D.Normal(a, 1), { obs: oa }));
  ppl.plate('B', yb.length, () => ppl.sample('yb', new D.Normal(b, 0.5), { obs: ob }));
};
const post = (s0: number, sigma: number, y: number[]): { m: number; s: number } => {
  const v = 1 / (1 / s0 ** 2 + y.length / sigma ** 2);
  return { m: (v * y.reduce((x, t) => x + t, 0)) / sigma ** 2, s: Math.sqrt(v) };
};
const pa = post(2, 1, ya);
const pb = post(1, 0.5, yb);

/** Adam, then Polyak averaging of the unconstrained parameters at a tenth of the rate. */
function fit(guide: ppl.AutoGuide<Args>, args: Args, steps = 250): void {
  const elbo = new ppl.TraceMeanFieldELBO({ numParticles: 4 });
  const svi = new ppl.SVI(model, guide, tf.train.adam(0.05), elbo);
  for (let i = 0; i < steps; i++) svi.step(...args);
  const svi2 = new ppl.SVI(model, guide, tf.train.adam(0.005), elbo);
  const store = ppl.getParamStore();
  const names = store.names();
  const sums = names.map(() => 0);
  for (let i = 0; i < steps; i++) {
    svi2.step(...args);
    names.forEach((n, j) => {
      sums[j] = (sums[j] as number) + (store.unconstrained(n).dataSync()[0] as number) / steps;
    });
  }
  names.forEach((n, j) => store.unconstrained(n).assign(tf.scalar(sums[j] as number)));
}

const num = (t: tf.Tensor | undefined): number => t?.dataSync()[0] as number;

describe('AutoGuideList', () => {
  it('AutoDelta on a + AutoNormal on b = each guide alone = the closed forms', () => {
    setSeed(0);
    const args: Args = [tf.tensor1d(ya), tf.tensor1d(yb)];
    const list = new ppl.AutoGuideList(model);
    const delta = new ppl.AutoDelta(ppl.block(model, { expose: ['a'] }));
    const normal = new ppl.AutoNormal(ppl.block(model, { hide: ['a'] }));
    list.append(delta).append(normal);
    fit(list, args);
    const med = list.median();
    expect(Object.keys(med).sort()).toEqual(['a', 'b']);
    expect(Math.abs(num(med['a']) - pa.m)).toBeLessThan(0.01);
    expect(Math.abs(num(med['b']) - pb.m)).toBeLessThan(0.03);
    const q = list.quantiles([0.1587, 0.5, 0.8413]); // ±1 sd of a normal
    const qa = Array.from(q['a']?.dataSync() ?? []);
    const qb = Array.from(q['b']?.dataSync() ?? []);
    expect(q['b']?.shape).toEqual([3]);
    expect(qa.every((v) => v === qa[1])).toBe(true); // a point mass
    expect(Math.abs(((qb[2] as number) - (qb[0] as number)) / 2 / pb.s - 1)).toBeLessThan(0.1);
    // the list's summaries are its parts' own
    const dm = delta.median();
    const nq = normal.quantiles([0.1587, 0.5, 0.8413]);
    expect(num(med['a'])).toBe(num(dm['a']));
    expect(Array.from(nq['b']?.dataSync() ?? [])).toEqual(qb);
    const draws = list.samplePosterior(5);
    expect(draws['a']?.shape).toEqual([5]);
    expect(draws['b']?.shape).toEqual([5]);
    tf.dispose([...Object.values(med), ...Object.values(q), ...Object.values(dm)]);
    tf.dispose([...Object.values(nq), ...Object.values(draws)]);
    const aList = num(ppl.getParamStore().value('AutoDelta.a'));
    const bList = [
      num(ppl.getParamStore().value('AutoNormal.locs.b')),
      num(ppl.getParamStore().value('AutoNormal.scales.b')),
    ];

    // each guide alone on the whole model reaches the same values for its site
    ppl.clearParamStore();
    setSeed(0);
    const aloneD = new ppl.AutoDelta(model);
    fit(aloneD, args);
    expect(Math.abs(num(ppl.getParamStore().value('AutoDelta.a')) - aList)).toBeLessThan(0.01);
    ppl.clearParamStore();
    setSeed(0);
    const aloneN = new ppl.AutoNormal(model);
    fit(aloneN, args);
    expect(
      Math.abs(num(ppl.getParamStore().value('AutoNormal.locs.b')) - (bList[0] as number)),
    ).toBeLessThan(0.03);
    expect(
      Math.abs(num(ppl.getParamStore().value('AutoNormal.scales.b')) / (bList[1] as number) - 1),
    ).toBeLessThan(0.1);
    for (const g of [list, aloneD, aloneN]) g.dispose();
    tf.dispose(args);
  });

  it('one call runs every part: the trace has a as a point mass and b as a Normal', () => {
    const args: Args = [tf.tensor1d(ya), tf.tensor1d(yb)];
    const list = new ppl.AutoGuideList(model)
      .append(new ppl.AutoDelta(ppl.block(model, { expose: ['a'] })))
      .append(new ppl.AutoNormal(ppl.block(model, { hide: ['a'] })));
    const tr = ppl.trace((...a: Args) => list.call(...a)).getTrace(...args);
    expect(tr.get('a')?.fn).toBeInstanceOf(ppl.Delta);
    expect(tr.get('b')?.fn).toBeInstanceOf(D.Normal);
    expect(
      tr
        .paramSites()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['AutoDelta.a', 'AutoNormal.locs.b', 'AutoNormal.scales.b']);
    tr.dispose();
    list.dispose();
    tf.dispose(args);
  });

  it('refuses overlapping parts naming the site, before any part runs or any parameter exists', () => {
    const args: Args = [tf.tensor1d(ya), tf.tensor1d(yb)];
    const list = new ppl.AutoGuideList(model)
      .append(new ppl.AutoDelta(ppl.block(model, { expose: ['a'] })))
      .append(new ppl.AutoNormal(model)); // also has 'a'
    const before = tf.memory().numTensors;
    expect(() => list.call(...args)).toThrow(/^parts: site 'a' is a latent site of part 0/);
    expect(ppl.getParamStore().size).toBe(0);
    list.dispose(); // the parts' prototypes
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(args);
  });

  it('checks its arguments', () => {
    const list = new ppl.AutoGuideList(model);
    expect(() => list.append({} as never)).toThrow(/^part:/);
    expect(() => list.append(list)).toThrow(/^part:/);
    expect(() => list.call(tf.scalar(0), tf.scalar(0))).toThrow(
      /^parts: AutoGuideList has no parts/,
    );
    expect(() => new ppl.AutoGuideList(model, { initScale: 0.1 } as never)).toThrow(/^initScale:/);
    list.append(new ppl.AutoNormal(model));
    expect(() => list.median()).toThrow(/^guide: call the guide/);
    expect(() => list.quantiles([1.5])).toThrow(/^quantiles:/);
    expect(() => list.samplePosterior(0)).toThrow(/^numSamples:/);
  });
});
