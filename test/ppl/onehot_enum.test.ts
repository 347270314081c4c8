/**
 * Parallel enumeration of `OneHotCategorical` sites (Pyro enumerates them with
 * `enumerate_support(expand=False)`, shape `[K, 1, ..., 1, K]`): TraceEnumELBO, the NUTS potential
 * and inferDiscrete on a Gaussian mixture written with a one-hot assignment, against the same
 * model written with a `Categorical` assignment and brute-force sums.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Categorical, Normal, OneHotCategorical } from '../../src/distributions/index.js';
import { enumerate } from '../../src/ppl/handlers/enum.js';
import { plate } from '../../src/ppl/handlers/plate.js';
import { trace } from '../../src/ppl/handlers/trace.js';
import { inferDiscrete } from '../../src/ppl/infer/infer_discrete.js';
import { TraceEnumELBO } from '../../src/ppl/infer/trace_enum_elbo.js';
import { ChainRng, ModelPotential, initialPoint } from '../../src/ppl/mcmc/index.js';
import { sample } from '../../src/ppl/runtime.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => clearSeed());

const LOG_2PI = Math.log(2 * Math.PI);
const logN = (x: number, m: number, s: number): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LOG_2PI;
const lse = (xs: number[]): number => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
};
const ENUM = { infer: { enumerate: 'parallel' } };
const noGuide = (): void => undefined;

const W = [0.2, 0.5, 0.3];
const MUS = [-2, 0.5, 3];
const YS = [-2.4, -0.1, 0.8, 2.7, 3.3, -1.5];

/** Mixture with known locations; the assignment one-hot (`oneHot`) or an index. */
function fixedMixture(oneHot: boolean) {
  return (obs: tf.Tensor): void => {
    const locs = tf.tensor1d(MUS);
    plate('data', obs.shape[0] as number, () => {
      if (oneHot) {
        const z = sample('z', new OneHotCategorical({ probs: W }), ENUM);
        sample('y', new Normal(tf.sum(tf.mul(z, locs), -1), 0.9), { obs });
      } else {
        const z = sample('z', new Categorical({ probs: W }), ENUM);
        sample('y', new Normal(tf.gather(locs, tf.cast(z, 'int32')), 0.9), { obs });
      }
    });
  };
}

/** Mixture with latent locations (what NUTS samples), the assignment summed out. */
function latentMixture(oneHot: boolean) {
  return (obs: tf.Tensor): void => {
    const locs = sample('locs', new Normal(tf.tensor1d(MUS), 1.5).toEvent(1));
    plate('data', obs.shape[0] as number, () => {
      if (oneHot) {
        const z = sample('z', new OneHotCategorical({ probs: W }));
        sample('y', new Normal(tf.sum(tf.mul(z, locs), -1), 0.9), { obs });
      } else {
        const z = sample('z', new Categorical({ probs: W }));
        sample('y', new Normal(tf.gather(locs, tf.cast(z, 'int32')), 0.9), { obs });
      }
    });
  };
}

/** `-log p(y)` of the fixed mixture by brute force over each assignment (float64). */
function bruteLoss(ys: number[], mus: number[]): number {
  return -ys.reduce(
    (a, y) => a + lse(W.map((w, k) => Math.log(w) + logN(y, mus[k] as number, 0.9))),
    0,
  );
}

describe('enumerating OneHotCategorical sites', () => {
  it('the enumerated value is the K one-hot vectors with shape [K, 1, ..., 1, K]; its log-prob has the batch shape with the enumeration dim', () => {
    const y = tf.tensor1d(YS);
    expectNoLeak(() => {
      const tr = trace(enumerate(fixedMixture(true), -2)).getTrace(y);
      const z = tr.value('z');
      expect(z.shape).toEqual([3, 1, 3]);
      expect(Array.from(z.dataSync())).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
      const site = tr.get('z');
      const lp = (site?.fn as OneHotCategorical).logProb(z);
      expect(lp.shape).toEqual([3, YS.length]);
      const rows = lp.arraySync() as number[][];
      rows.forEach((r, k) => r.forEach((v) => expect(v).toBeCloseTo(Math.log(W[k] as number), 6)));
      lp.dispose();
      tr.dispose();
    });
    // an expanded one-hot family enumerates its base's vectors
    expectNoLeak(() => {
      const base = new OneHotCategorical({ probs: W });
      const d = base.expand([4]);
      const a = d.enumerateSupport(false);
      const b = d.enumerateSupport();
      expect(a.shape).toEqual([3, 1, 3]);
      expect(b.shape).toEqual([3, 4, 3]);
      expect(Array.from(b.dataSync()).slice(12, 15)).toEqual([0, 1, 0]);
      tf.dispose([a, b]);
      d.dispose();
      base.dispose();
    });
    y.dispose();
  });

  it('TraceEnumELBO: the one-hot mixture loss equals the Categorical one and -sum_i log sum_k by brute force; no tensors leak', () => {
    const y = tf.tensor1d(YS);
    const elbo = new TraceEnumELBO();
    const oneHot = elbo.loss(fixedMixture(true), noGuide, y);
    const cat = elbo.loss(fixedMixture(false), noGuide, y);
    expect(Math.abs(oneHot - cat)).toBeLessThan(1e-5);
    expect(Math.abs(oneHot - bruteLoss(YS, MUS))).toBeLessThan(1e-4);
    expectNoLeak(() => tf.tidy(() => elbo.differentiableLoss(fixedMixture(true), noGuide, [y])));
    y.dispose();
  });

  it('TraceEnumELBO: a global one-hot site ([K, 1, K] left of the plate) sums out exactly', () => {
    const y = tf.tensor1d(YS);
    const model = (obs: tf.Tensor): void => {
      const z = sample('z', new OneHotCategorical({ probs: W }), ENUM);
      const loc = tf.sum(tf.mul(z, tf.tensor1d(MUS)), -1); // [K, 1]
      plate('data', YS.length, () => sample('y', new Normal(loc, 0.9), { obs }));
    };
    const want = -lse(
      W.map((w, k) => Math.log(w) + YS.reduce((a, v) => a + logN(v, MUS[k] as number, 0.9), 0)),
    );
    const got = new TraceEnumELBO().loss(model, noGuide, y);
    expect(Math.abs(got - want)).toBeLessThan(1e-4 * Math.abs(want));
    y.dispose();
  });

  it('NUTS potential: the one-hot mixture sums z out to the Categorical potential and the brute-force one at several points; no tensors leak', () => {
    const y = tf.tensor1d(YS);
    const pots = [true, false].map((oh) => {
      const m = latentMixture(oh);
      const { sites, enumeration } = initialPoint(m, [y], 'uniform', new ChainRng(0));
      expect(sites.map((s) => s.name)).toEqual(['locs']);
      expect(enumeration?.sites).toEqual(['z']);
      return new ModelPotential(m, [y], sites, enumeration);
    });
    const before = tf.memory().numTensors;
    for (const x of [
      [-1.7, 0.2, 2.5],
      [0.4, -0.9, 1.1],
      [-3, 1.5, 4],
    ]) {
      const [a, b] = pots.map((p) => p.evaluate(Float64Array.from(x)));
      const prior = x.reduce((s, v, k) => s + logN(v, MUS[k] as number, 1.5), 0);
      const want = bruteLoss(YS, x) - prior;
      expect(Math.abs(a!.value - b!.value)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
      expect(Math.abs(a!.value - want)).toBeLessThan(2e-5 * Math.max(1, Math.abs(want)));
      a!.grad.forEach((g, i) => expect(Math.abs(g - (b!.grad[i] as number))).toBeLessThan(1e-4));
    }
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it('inferDiscrete: temperature 0 gives the argmax one-hot vector per datum; temperature 1 draws one-hot vectors with the posterior frequencies', () => {
    const y = tf.tensor1d(YS);
    const post = (v: number): number[] => {
      const l = W.map((w, k) => Math.log(w) + logN(v, MUS[k] as number, 0.9));
      const m = lse(l);
      return l.map((t) => Math.exp(t - m));
    };
    const best = YS.map((v) => {
      const p = post(v);
      return p.indexOf(Math.max(...p));
    });
    expectNoLeak(() => {
      const tr = trace(inferDiscrete(fixedMixture(true), { temperature: 0 })).getTrace(y);
      const z = tr.value('z');
      expect(z.shape).toEqual([YS.length, 3]);
      const rows = z.arraySync() as number[][];
      rows.forEach((r, i) => expect(r).toEqual([0, 1, 2].map((k) => (k === best[i] ? 1 : 0))));
      tr.dispose();
    });
    // temperature 1: N copies of one datum; the share of each category within 4.5 standard errors
    const N = 3000;
    const v = 1.6;
    const p = post(v);
    setSeed(11);
    const many = tf.fill([N], v);
    expectNoLeak(() => {
      const tr = trace(inferDiscrete(fixedMixture(true), { temperature: 1 })).getTrace(many);
      const z = tr.value('z');
      expect(z.shape).toEqual([N, 3]);
      const counts = tf.tidy(() => tf.sum(z, 0).arraySync() as number[]);
      const total = tf.tidy(() => tf.sum(z).arraySync() as number);
      expect(total).toBe(N); // exactly one 1 per row (entries are 0/1)
      counts.forEach((c, k) => {
        const pk = p[k] as number;
        expect(Math.abs(c / N - pk)).toBeLessThan(4.5 * Math.sqrt((pk * (1 - pk)) / N) + 1e-9);
      });
      tr.dispose();
    });
    many.dispose();
    y.dispose();
  });
});
