/**
 * `hpdi` / `quantiles` against brute force and closed forms, and the `SVI` options `clipNorm`,
 * `clipValue` and `lrSchedule` against hand-computed steps on a quadratic loss
 * `-ELBO = ½ Σ (w - t)²` (a `factor` in the model), whose gradient is `w - t`.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => ppl.clearParamStore());

/** Narrowest interval [x_(i), x_(j)] holding at least floor(prob n) + 1 draws, by all pairs. */
function bruteHpdi(x: number[], prob: number): [number, number] {
  const s = [...x].sort((a, b) => a - b);
  const need = Math.floor(prob * s.length) + 1;
  let best: [number, number] = [s[0] as number, s[s.length - 1] as number];
  for (let i = 0; i < s.length; i++) {
    for (let j = i; j < s.length; j++) {
      if (j - i + 1 >= need && (s[j] as number) - (s[i] as number) < best[1] - best[0]) {
        best = [s[i] as number, s[j] as number];
      }
    }
  }
  return best;
}

describe('hpdi and quantiles', () => {
  it('hpdi = the narrowest interval found by checking every pair of draws', () => {
    let a = 12345;
    const u = (): number => ((a = (a * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
    for (const prob of [0.5, 0.9]) {
      // skewed draws, two columns: x^3 of uniforms and an exponential
      const n = 101;
      const c1 = Array.from({ length: n }, () => u() ** 3);
      const c2 = Array.from({ length: n }, () => -Math.log(u()));
      const x = tf.tensor2d(c1.map((v, i) => [v, c2[i] as number]));
      const got = expectNoLeak(() => ppl.hpdi(x, prob));
      const [l1, h1] = bruteHpdi(c1, prob);
      const [l2, h2] = bruteHpdi(c2, prob);
      expect(got).toBeAllclose([l1, l2, h1, h2], { rtol: 1e-6 });
      x.dispose();
    }
  });

  it('hpdi of an exponential is [0, -log(1 - prob)]; of a normal, the central interval', () => {
    const n = 20000;
    const p = (i: number): number => (i + 0.5) / n; // draws at the quantiles
    const ex = tf.tensor1d(Array.from({ length: n }, (_, i) => -Math.log1p(-p(i))));
    const h = ppl.hpdi(ex, 0.9);
    expect(h.shape).toEqual([2]);
    expect(h).toBeAllclose([0, Math.log(10)], { atol: 2e-3 });
    // along axis 1, shape [3, 2]; a symmetric distribution: hpdi = the 5 % and 95 % quantiles
    const z = [-1.6449, 0, 1.6449];
    const base = Array.from({ length: 2001 }, (_, i) =>
      Math.tan(Math.PI * ((i + 0.5) / 2001 - 0.5)),
    );
    const sym = tf.tensor2d(z.map((m) => base.map((b) => m + b)));
    const hs = ppl.hpdi(sym, 0.9, 1);
    const qs = ppl.quantiles(sym, [0.05, 0.95], -1);
    expect(hs.shape).toEqual([3, 2]);
    expect(hs).toBeAllclose(qs, { atol: 0.1 });
    tf.dispose([ex, h, sym, hs, qs]);
  });

  it('quantiles interpolate linearly between order statistics (NumPy default)', () => {
    const x = tf.tensor2d([
      [4, 10],
      [1, 20],
      [3, 40],
      [2, 30],
    ]);
    const q = expectNoLeak(() => ppl.quantiles(x, [0, 0.1, 0.5, 1]));
    // sorted [1,2,3,4]: h = 3p -> 1, 1.3, 2.5, 4; [10,20,30,40] -> 10, 13, 25, 40
    expect(q).toBeAllclose([1, 10, 1.3, 13, 2.5, 25, 4, 40], { rtol: 1e-6 });
    x.dispose();
  });

  it('names bad arguments', () => {
    const x = tf.tensor1d([1, 2, 3]);
    expect(() => ppl.hpdi(x, 1)).toThrow(/^prob:/);
    expect(() => ppl.hpdi(x, 0.9, 1)).toThrow(/^axis:/);
    expect(() => ppl.hpdi([1, 2] as never)).toThrow(/^samples:/);
    expect(() => ppl.quantiles(x, [])).toThrow(/^probs:/);
    expect(() => ppl.quantiles(x, [1.2])).toThrow(/^probs:/);
    const nan = tf.tensor1d([1, NaN]);
    expect(() => ppl.hpdi(nan)).toThrow(/^samples:.*NaN/);
    const before = tf.memory().numTensors;
    expect(() => ppl.quantiles(nan, [0.5])).toThrow(/^samples:/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, nan]);
  });
});

/** `-ELBO = ½ Σ_k Σ (w_k - t_k)²` over params `w_k` initialized at 0. */
function quadratic(targets: Record<string, number[]>): { model: () => void; guide: () => void } {
  const model = (): void => {
    let total: tf.Tensor = tf.scalar(0);
    for (const [name, t] of Object.entries(targets)) {
      const w = ppl.param(name, tf.zeros([t.length]));
      total = tf.add(total, tf.sum(tf.square(tf.sub(w, tf.tensor1d(t)))));
    }
    ppl.factor('quad', tf.mul(total, -0.5));
  };
  return { model, guide: () => undefined };
}
const value = (name: string): number[] => {
  const v = ppl.getParamStore().value(name);
  const out = Array.from(v.dataSync());
  v.dispose();
  return out;
};

describe('SVI options', () => {
  it('clipNorm scales the gradient by its global norm over all parameters', () => {
    const { model, guide } = quadratic({ a: [3], b: [4, 0] }); // gradient (-3, -4, 0), norm 5
    const svi = new ppl.SVI(model, guide, tf.train.sgd(1), new ppl.TraceELBO(), { clipNorm: 1 });
    const before = tf.memory().numTensors;
    svi.step();
    expect(value('a')).toBeAllclose([0.6]);
    expect(value('b')).toBeAllclose([0.8, 0]);
    svi.step(); // gradient (-2.4, -3.2, 0), norm 4: clipped to norm 1 again
    expect(value('a')).toBeAllclose([1.2]);
    const after = tf.memory().numTensors;
    svi.step();
    expect(tf.memory().numTensors).toBe(after);
    expect(before).toBeLessThanOrEqual(after);
    // a gradient smaller than clipNorm is untouched
    ppl.clearParamStore();
    const q = quadratic({ c: [0.3] });
    const s2 = new ppl.SVI(q.model, q.guide, tf.train.sgd(1), new ppl.TraceELBO(), { clipNorm: 1 });
    s2.step();
    expect(value('c')).toBeAllclose([0.3]);
  });

  it("clipValue clamps each element (Pyro's ClippedAdam)", () => {
    const { model, guide } = quadratic({ a: [3], b: [4, -0.5] });
    const svi = new ppl.SVI(model, guide, tf.train.sgd(1), new ppl.TraceELBO(), { clipValue: 2 });
    svi.step();
    expect(value('a')).toBeAllclose([2]);
    expect(value('b')).toBeAllclose([2, -0.5]);
  });

  it('lrSchedule sets the learning rate of every step, for SGD and the fused Adam', () => {
    const { model, guide } = quadratic({ a: [1] });
    const seen: number[] = [];
    const sch = (t: number): number => {
      seen.push(t);
      return 0.1 * 0.5 ** t;
    };
    const svi = new ppl.SVI(model, guide, tf.train.sgd(123), new ppl.TraceELBO(), {
      lrSchedule: sch,
    });
    let w = 0;
    for (let t = 0; t < 3; t++) {
      svi.step();
      w -= 0.1 * 0.5 ** t * (w - 1);
      expect(value('a')[0]).toBeCloseTo(w, 6);
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(svi.stepCount).toBe(3);
    // Adam's first step moves each parameter by its learning rate (m̂ / sqrt(v̂) = sign(g))
    ppl.clearParamStore();
    const q = quadratic({ b: [5] });
    const s2 = new ppl.SVI(q.model, q.guide, tf.train.adam(1), new ppl.TraceELBO(), {
      lrSchedule: () => 0.01,
    });
    s2.step();
    expect(value('b')[0]).toBeCloseTo(0.01, 5);
  });

  it('names bad options before any work; a schedule giving NaN stops the step untouched', () => {
    const { model, guide } = quadratic({ a: [1] });
    const mk = (o: object): unknown =>
      new ppl.SVI(model, guide, tf.train.sgd(1), new ppl.TraceELBO(), o as ppl.SVIOptions);
    expect(() => mk({ clipNorm: 0 })).toThrow(/^clipNorm:/);
    expect(() => mk({ clipNorm: NaN })).toThrow(/^clipNorm:/);
    expect(() => mk({ clipValue: -1 })).toThrow(/^clipValue:/);
    expect(() => mk({ lrSchedule: 0.1 })).toThrow(/^lrSchedule:/);
    expect(() => mk({ clip_norm: 10 })).toThrow(/^clip_norm:.*clipNorm/);
    expect(() => mk(null as never)).toThrow(/^options:/);
    const svi = new ppl.SVI(model, guide, tf.train.sgd(1), new ppl.TraceELBO(), {
      lrSchedule: (t) => (t === 0 ? 0.5 : NaN),
    });
    svi.step();
    expect(value('a')).toBeAllclose([0.5]);
    const before = tf.memory().numTensors;
    expect(() => svi.step()).toThrow(/^lrSchedule:.*step 1/);
    expect(value('a')).toBeAllclose([0.5]);
    expect(tf.memory().numTensors).toBe(before);
    expect(svi.stepCount).toBe(1);
  });
});
