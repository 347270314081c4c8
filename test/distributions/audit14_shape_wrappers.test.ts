/**
 * Audit (issue 14): `expand`, `toEvent` and `mask` in combination, on scalar, vector (Dirichlet,
 * MultivariateNormal) and discrete families: batch/event shapes, draw shapes, `logProb` against
 * float64 sums written here, moments of expanded families, bad arguments refused naming the
 * argument; and `TransformedDistribution` with Pyro's list of transforms (applied first to last).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import gammaln from '@stdlib/math-base-special-gammaln';
import { bijectors, distributions as D } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

const LN2PI = Math.log(2 * Math.PI);
const normLp = (x: number, m = 0, s = 1): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LN2PI;

function lpOf(d: D.Distribution, v: tf.Tensor): { shape: number[]; vals: number[] } {
  const before = tf.memory().numTensors;
  const lp = d.logProb(v);
  const out = { shape: [...lp.shape], vals: Array.from(lp.dataSync()) };
  lp.dispose();
  expect(tf.memory().numTensors, 'logProb leaked').toBe(before);
  return out;
}

describe('audit14: expand / toEvent / mask combinations', () => {
  it('Normal(0.5, 2).expand([2, 3]).toEvent(1): batch [2], event [3], logProb sums the event', () => {
    const d = new D.Normal(0.5, 2).expand([2, 3]).toEvent(1);
    expect(d.batchShape).toEqual([2]);
    expect(d.eventShape).toEqual([3]);
    const x = [
      [0.1, -1, 2],
      [3, 0.5, -0.2],
    ];
    const v = tf.tensor2d(x);
    const { shape, vals } = lpOf(d, v);
    expect(shape).toEqual([2]);
    x.forEach((row, i) =>
      expect(vals[i]).toBeCloseTo(
        row.reduce((s, xi) => s + normLp(xi, 0.5, 2), 0),
        4,
      ),
    );
    setSeed(1);
    const s = d.sample([4]);
    expect(s.shape).toEqual([4, 2, 3]);
    s.dispose();
    clearSeed();
    v.dispose();
    d.dispose();
  });

  it('toEvent() with no argument moves every batch dim; toEvent(0) is the identity on shapes', () => {
    const base = new D.Normal(tf.zeros([2, 3]), 1);
    const all = base.toEvent();
    expect(all.batchShape).toEqual([]);
    expect(all.eventShape).toEqual([2, 3]);
    const none = base.toEvent(0);
    expect(none.batchShape).toEqual([2, 3]);
    expect(none.eventShape).toEqual([]);
    [all, none, base].forEach((d) => d.dispose());
  });

  it('a Dirichlet expanded to [4] and masked: masked rows give 0, others the closed form', () => {
    const alpha = [2, 1, 3];
    const m = [true, false, true, false];
    const d = new D.Dirichlet(alpha).expand([4]).mask(tf.tensor1d(m, 'bool'));
    expect(d.batchShape).toEqual([4]);
    expect(d.eventShape).toEqual([3]);
    const x = [
      [0.2, 0.3, 0.5],
      [0.6, 0.2, 0.2],
      [0.1, 0.1, 0.8],
      [0.3, 0.3, 0.4],
    ];
    const v = tf.tensor2d(x);
    const { vals } = lpOf(d, v);
    const lnB = alpha.reduce((s, a) => s + gammaln(a), 0) - gammaln(6);
    x.forEach((row, i) => {
      const want = m[i] ? row.reduce((s, xi, k) => s + (alpha[k]! - 1) * Math.log(xi), 0) - lnB : 0;
      expect(vals[i]).toBeCloseTo(want, 4);
    });
    v.dispose();
    d.dispose();
  });

  it('a MultivariateNormal expanded to [2, 2] then toEvent(1): event [2, 3], logProb sums 2 MVN terms', () => {
    const cov = [
      [1, 0.3, 0],
      [0.3, 2, 0.1],
      [0, 0.1, 0.5],
    ];
    const base = new D.MultivariateNormal(tf.tensor1d([0, 1, -1]), {
      covarianceMatrix: tf.tensor2d(cov),
    });
    const d = base.expand([2, 2]).toEvent(1);
    expect(d.batchShape).toEqual([2]);
    expect(d.eventShape).toEqual([2, 3]);
    const x = tf.tensor3d([
      [
        [0.1, 0.5, -1.2],
        [0, 0, 0],
      ],
      [
        [1, 2, -0.5],
        [-0.3, 1.1, -1],
      ],
    ]);
    const { vals } = lpOf(d, x);
    const single = lpOf(base, x);
    expect(vals[0]).toBeCloseTo(single.vals[0]! + single.vals[1]!, 4);
    expect(vals[1]).toBeCloseTo(single.vals[2]! + single.vals[3]!, 4);
    x.dispose();
    d.dispose();
    base.dispose();
  });

  it('mask(false) on a Poisson gives 0 even outside the support value grid; mask(true) is the family', () => {
    const off = new D.Poisson(3).mask(false);
    const { vals } = lpOf(off, tf.tensor1d([0, 2, 7]));
    vals.forEach((v) => expect(v).toBe(0));
    const on = new D.Poisson(3).mask(true);
    const r = lpOf(on, tf.tensor1d([2]));
    expect(r.vals[0]).toBeCloseTo(2 * Math.log(3) - 3 - Math.log(2), 5);
    off.dispose();
    on.dispose();
  });

  it('expanded moments are the base moments broadcast', () => {
    const d = new D.Gamma(tf.tensor1d([2, 3]), 1.5).expand([4, 2]);
    const m = d.mean();
    const v = d.variance();
    expect(m.shape).toEqual([4, 2]);
    const mv = Array.from(m.dataSync());
    const vv = Array.from(v.dataSync());
    for (let i = 0; i < 4; i++) {
      expect(mv[2 * i]).toBeCloseTo(2 / 1.5, 5);
      expect(mv[2 * i + 1]).toBeCloseTo(3 / 1.5, 5);
      expect(vv[2 * i]).toBeCloseTo(2 / 2.25, 5);
    }
    tf.dispose([m, v]);
    d.dispose();
  });

  it('a mask whose shape does not broadcast, a bad expand or a too-large toEvent are refused', async () => {
    const base = new D.Normal(tf.zeros([3]), 1);
    const m4 = tf.tensor1d([true, false, true, true], 'bool');
    await expectBadInput({
      call: 'expand([2])',
      run: () => base.expand([2]),
      arg: /batchShape|expand/,
    });
    await expectBadInput({
      call: 'expand([-1])',
      run: () => base.expand([-1]),
      arg: /batchShape|expand/,
    });
    await expectBadInput({
      call: 'toEvent(2) of batch [3]',
      run: () => base.toEvent(2),
      arg: /n|reinterpreted/,
    });
    await expectBadInput({
      call: 'toEvent(-1)',
      run: () => base.toEvent(-1),
      arg: /n|reinterpreted/,
    });
    await expectBadInput({
      call: 'mask of shape [4] on batch [3]',
      run: () => base.mask(m4),
      arg: /mask/,
    });
    await expectBadInput({
      call: 'mask of a nested array of 4 booleans on batch [3]',
      run: () => base.mask([true, false, true, true]),
      arg: /mask/,
    });
    m4.dispose();
    base.dispose();
  });
});

describe('audit14: TransformedDistribution with a list of transforms', () => {
  it('[ScalarAffine(2, 1), Exp] is exp(1 + 2x): a LogNormal(1 + 2 mu, 2 sigma)', () => {
    const base = new D.Normal(0.3, 0.5);
    const t = new D.TransformedDistribution(base, [
      new bijectors.ScalarAffine(2, 1),
      new bijectors.Exp(),
    ]);
    const ref = new D.LogNormal(1 + 2 * 0.3, 2 * 0.5);
    const y = tf.tensor1d([0.5, 2, 9]);
    const a = lpOf(t, y);
    const b = lpOf(ref, y);
    a.vals.forEach((v, i) => expect(v).toBeCloseTo(b.vals[i]!, 4));
    expect(t.support.name).toBe(ref.support.name);
    setSeed(2);
    const s = t.sample([200]);
    expect(Math.min(...Array.from(s.dataSync()))).toBeGreaterThan(0);
    s.dispose();
    clearSeed();
    [y].forEach((x) => x.dispose());
    [t, ref, base].forEach((d) => d.dispose());
  });

  it('a one-element list is that bijector; an empty list is the identity; a non-bijector is refused', async () => {
    const base = new D.Normal(0, 1);
    const one = new D.TransformedDistribution(base, [new bijectors.Exp()]);
    const y = tf.tensor1d([1.5]);
    const a = lpOf(one, y);
    const ln = new D.LogNormal(0, 1);
    expect(a.vals[0]).toBeCloseTo(lpOf(ln, y).vals[0]!, 5);
    const id = new D.TransformedDistribution(base, []);
    expect(lpOf(id, y).vals[0]).toBeCloseTo(normLp(1.5), 5);
    await expectBadInput({
      call: 'a list holding a number',
      run: () => new D.TransformedDistribution(base, [new bijectors.Exp(), 3 as never]),
      arg: 'bijector',
    });
    y.dispose();
    [one, id, ln, base].forEach((d) => d.dispose());
  });
});
