/**
 * Fresh-eyes audit (round 16): Pyro's `Trace` methods (`compute_log_prob`, `stochastic_nodes`,
 * `observation_nodes`, `param_nodes`, `reparameterized_nodes`, `format_shapes`), parallel
 * enumeration shapes (`poutine.enum` + `config_enumerate`), `TraceEnumELBO` with `markov` against
 * the forward algorithm in float64, and SVI with local params declared with `eventDim` in a
 * subsampled plate (Pyro's `pyro.param(..., event_dim=0)`).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { clearSeed, distributions as D, ppl, setSeed } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';

const LOG_2PI = Math.log(2 * Math.PI);
const nlp = (x: number, m: number, s: number): number =>
  -0.5 * LOG_2PI - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
const num = (t: tf.Tensor): number => t.dataSync()[0] as number;
const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const sum = (a: number[]): number => a.reduce((s, v) => s + v, 0);
const logSumExp = (a: number[]): number => {
  const m = Math.max(...a);
  return m + Math.log(sum(a.map((v) => Math.exp(v - m))));
};

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

describe('Trace methods as Pyro`s', () => {
  const Y = [0.2, -0.4, 1.3];
  const model = (y: tf.Tensor): void => {
    const s = ppl.param('s', 1.5, { constraint: ppl.constraints.positive });
    const mu = ppl.sample('mu', new D.Normal(0, 2));
    const k = ppl.sample('k', new D.Bernoulli({ probs: 0.25 }));
    ppl.plate('data', 3, { subsample: [0, 1, 2] }, () =>
      ppl.sample('y', new D.Normal(tf.add(mu, k), s), { obs: y }),
    );
  };
  it('computeLogProb gives each site`s batch-shaped log-density; their sum is logProbSum', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const tr = ppl.trace(ppl.seed(model, 1)).getTrace(y);
      const lp = tr.computeLogProb();
      expect([...lp.keys()]).toEqual(['mu', 'k', 'y']);
      expect(lp.get('y')?.shape).toEqual([3]);
      expect(lp.get('mu')?.shape).toEqual([]);
      const mu = num(tr.value('mu'));
      const k = num(tr.value('k'));
      expect(
        arr(lp.get('y') as tf.Tensor).map((v, i) => v - nlp(Y[i] as number, mu + k, 1.5)),
      ).toEqual([0, 0, 0].map(() => expect.closeTo(0, 4)));
      expect(num(lp.get('k') as tf.Tensor)).toBeCloseTo(Math.log(k === 1 ? 0.25 : 0.75), 5);
      const total = tr.logProbSum();
      const bySite = sum([...lp.values()].map((t) => sum(arr(t))));
      expect(num(total)).toBeCloseTo(bySite, 4);
      total.dispose();
      // the same tensors again; a filter selects sites
      expect(tr.computeLogProb().get('y')).toBe(lp.get('y'));
      expect([...tr.computeLogProb((s) => s.isObserved).keys()]).toEqual(['y']);
      tr.dispose();
      y.dispose();
      ppl.clearParamStore();
    });
  });
  it('computeLogProb includes the subsample scale N/n and the mask, as site["log_prob"]', () => {
    expectNoLeak(() => {
      const m = tf.tensor1d([true, false], 'bool');
      const fn = (): void => {
        ppl.plate('p', 8, { subsample: [3, 5] }, () =>
          ppl.mask(() => ppl.sample('z', new D.Normal(0, 1), { obs: tf.tensor1d([0.5, 1]) }), m)(),
        );
      };
      const tr = ppl.trace(fn).getTrace();
      const lp = arr(tr.computeLogProb().get('z') as tf.Tensor);
      expect(lp[0]).toBeCloseTo(4 * nlp(0.5, 0, 1), 4);
      expect(lp[1]).toBe(0);
      tr.dispose();
      m.dispose();
    });
  });
  it('stochasticNodes, observationNodes, paramNodes, reparameterizedNodes', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const tr = ppl.trace(model).getTrace(y);
      expect(tr.stochasticNodes).toEqual(['mu', 'k']);
      expect(tr.observationNodes).toEqual(['y']);
      expect(tr.paramNodes).toEqual(['s']);
      expect(tr.reparameterizedNodes).toEqual(['mu']);
      expect(tr.nonreparamStochasticNodes).toEqual(['k']);
      // an explicit subsample makes no subsample site (Pyro records the plate's node as well)
      expect([...tr.nodes.keys()]).toEqual(['s', 'mu', 'k', 'y']);
      tr.dispose();
      y.dispose();
      ppl.clearParamStore();
    });
  });
  it('formatShapes lists every site with its batch and event shapes', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const tr = ppl.trace(model).getTrace(y);
      const text = tr.formatShapes();
      for (const n of ['mu', 'k', 'y', 's']) expect(text).toContain(n);
      expect(text).toMatch(/y[^\n]*3/);
      tr.dispose();
      y.dispose();
      ppl.clearParamStore();
    });
  });
  it('computeLogProb with a non-function filter is an ArgumentError naming filter', () => {
    const tr = ppl.trace(() => undefined).getTrace();
    expect(() => tr.computeLogProb(3 as unknown as () => boolean)).toThrow(ArgumentError);
    expect(() => tr.computeLogProb(3 as unknown as () => boolean)).toThrow(/filter/);
    tr.dispose();
  });
});

describe('parallel enumeration and TraceEnumELBO', () => {
  it('enumerate at dim -2 with a plate at -1: values [K, 1], log-density [K, n]', () => {
    expectNoLeak(() => {
      const fn = (): void => {
        ppl.plate('data', 3, () => {
          const z = ppl.sample('z', new D.Categorical({ probs: tf.tensor1d([0.2, 0.3, 0.5]) }));
          ppl.sample('y', new D.Normal(tf.cast(z, 'float32'), 1), {
            obs: tf.tensor1d([0.1, 1.2, 2.3]),
          });
        });
      };
      const tr = ppl.trace(ppl.enumerate(ppl.configEnumerate(fn), -2)).getTrace();
      expect(tr.value('z').shape).toEqual([3, 1]);
      expect(arr(tr.value('z'))).toEqual([0, 1, 2]);
      expect(tr.get('z')?.infer).toMatchObject({ enumerate: 'parallel' });
      expect(tr.computeLogProb().get('y')?.shape).toEqual([3, 3]);
      tr.dispose();
    });
  });
  it('TraceEnumELBO of a mixture with an empty guide is -log p(y) (float64 logsumexp)', () => {
    const y = [-1.5, 0.2, 2.8, 3.1];
    const w = [0.3, 0.7];
    const locs = [-1, 3];
    const yt = tf.tensor1d(y);
    const model = (): void => {
      ppl.plate('data', 4, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: tf.tensor1d(w) }), {
          infer: { enumerate: 'parallel' },
        });
        ppl.sample('y', new D.Normal(tf.gather(tf.tensor1d(locs), tf.cast(z, 'int32')), 0.8), {
          obs: yt,
        });
      });
    };
    const guide = (): void => undefined;
    const before = tf.memory().numTensors;
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, guide);
    expect(tf.memory().numTensors).toBe(before);
    const ref = -sum(
      y.map((v) => logSumExp(w.map((wk, k) => Math.log(wk) + nlp(v, locs[k] as number, 0.8)))),
    );
    expect(loss).toBeCloseTo(ref, 3);
    yt.dispose();
  });
  it('TraceEnumELBO of a 2-state HMM under markov is -log p(y_1:T) (forward algorithm)', () => {
    const y = [0.1, 1.9, 2.2, -0.3, 0.4];
    const init = [0.6, 0.4];
    const trans = [
      [0.8, 0.2],
      [0.3, 0.7],
    ];
    const locs = [0, 2];
    const model = (): void => {
      const transT = tf.tensor2d(trans);
      const locT = tf.tensor1d(locs);
      let x = ppl.sample('x_0', new D.Categorical({ probs: tf.tensor1d(init) }), {
        infer: { enumerate: 'parallel' },
      });
      ppl.sample('y_0', new D.Normal(tf.gather(locT, tf.cast(x, 'int32')), 1), {
        obs: tf.scalar(y[0] as number),
      });
      for (const t of ppl.markov(y.length)) {
        if (t === 0) continue;
        x = ppl.sample(
          `x_${t}`,
          new D.Categorical({ probs: tf.gather(transT, tf.cast(x, 'int32')) }),
          {
            infer: { enumerate: 'parallel' },
          },
        );
        ppl.sample(`y_${t}`, new D.Normal(tf.gather(locT, tf.cast(x, 'int32')), 1), {
          obs: tf.scalar(y[t] as number),
        });
      }
    };
    const before = tf.memory().numTensors;
    const loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(model, () => undefined);
    expect(tf.memory().numTensors).toBe(before);
    // float64 forward algorithm
    let alpha = init.map((p, k) => p * Math.exp(nlp(y[0] as number, locs[k] as number, 1)));
    for (let t = 1; t < y.length; t++) {
      alpha = [0, 1].map(
        (j) =>
          sum(alpha.map((a, i) => a * (trans[i] as number[])[j]!)) *
          Math.exp(nlp(y[t] as number, locs[j] as number, 1)),
      );
    }
    expect(loss).toBeCloseTo(-Math.log(sum(alpha)), 3);
  });
});

describe('SVI with local params declared with eventDim in a subsampled plate', () => {
  const Y = [1.0, -2.0, 0.5, 3.0, -1.0, 2.0];
  const N = Y.length;
  const yAll = (): tf.Tensor => tf.tensor1d(Y);
  /** z_i ~ N(0, 1), y_i ~ N(z_i, 1): the posterior of z_i is N(y_i / 2, 1/2). */
  const model = (y: tf.Tensor): void => {
    ppl.plate('data', N, { subsampleSize: 3 }, (idx) => {
      const z = ppl.sample('z', new D.Normal(0, 1));
      ppl.sample('y', new D.Normal(z, 1), { obs: tf.gather(y, idx) });
    });
  };
  const guide = (): void => {
    ppl.plate('data', N, { subsampleSize: 3 }, () => {
      const loc = ppl.param('z_loc', () => tf.zeros([N]), { eventDim: 0 });
      const scale = ppl.param('z_scale', () => tf.ones([N]), {
        constraint: ppl.constraints.positive,
        eventDim: 0,
      });
      ppl.sample('z', new D.Normal(loc, scale));
    });
  };
  it('one step moves only the visited entries; many steps reach the exact posterior', () => {
    const y = yAll();
    setSeed(16);
    const svi = new ppl.SVI(
      ppl.seed(model, 0),
      ppl.seed(guide, 0),
      tf.train.adam(0.05),
      new ppl.TraceELBO(),
    );
    // the guide's subsample is replayed into the model: trace one guide run to see it
    svi.step(y);
    const loc1 = arr(ppl.getParamStore().value('z_loc'));
    expect(loc1.filter((v) => v !== 0).length).toBe(3);
    const svi2 = new ppl.SVI(model, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    svi2.step(y); // the optimizer's slots are made at its first step
    const before = tf.memory().numTensors;
    for (let i = 0; i < 400; i++) svi2.step(y);
    expect(tf.memory().numTensors).toBe(before);
    // then a smaller step size, averaging the last iterates (Polyak) against SVI's noise
    const svi3 = new ppl.SVI(model, guide, tf.train.adam(0.01), new ppl.TraceELBO());
    const loc = new Array<number>(N).fill(0);
    const sc = new Array<number>(N).fill(0);
    for (let i = 0; i < 500; i++) {
      svi3.step(y);
      if (i < 200) continue;
      arr(ppl.getParamStore().value('z_loc')).forEach(
        (v, j) => (loc[j] = (loc[j] as number) + v / 300),
      );
      arr(ppl.getParamStore().value('z_scale')).forEach(
        (v, j) => (sc[j] = (sc[j] as number) + v / 300),
      );
    }
    // the SVI noise left in a 300-step average is a few hundredths (seeded run: <= 0.07)
    loc.forEach((v, i) => expect(Math.abs(v - (Y[i] as number) / 2)).toBeLessThan(0.15));
    sc.forEach((v) => expect(Math.abs(v - Math.SQRT1_2)).toBeLessThan(0.1));
    clearSeed();
    y.dispose();
  });
});
