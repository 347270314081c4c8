/**
 * Pyro's `Predictive` options a ported program uses: `return_sites` with `_RETURN`, and
 * `parallel=True` (all draws in one run inside a `_num_predictive_samples` plate) from posterior
 * samples (also grouped by chain, also with event-shaped latents), from a guide and from the
 * prior, checked exactly where the draw is deterministic and by Monte Carlo elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl, setSeed } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const XS = [1, 2, -3];
/** `w ~ N(0, 1)`, `mu = w x` (deterministic), `y_i ~ N(mu_i, 0.5)`; returns `2 y`. */
const model = (x: tf.Tensor): tf.Tensor => {
  const w = ppl.sample('w', new D.Normal(0, 1));
  const mu = ppl.deterministic('mu', tf.mul(w, x));
  const y = ppl.plate('data', x.shape[0] as number, () => ppl.sample('y', new D.Normal(mu, 0.5)));
  return tf.mul(y, 2);
};

const rows = (t: tf.Tensor): number[][] => t.arraySync() as number[][];
const meanVar = (v: number[]): [number, number] => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return [m, v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)];
};

describe('returnSites with _RETURN', () => {
  it('returns the model`s return value per draw, next to the sites', () => {
    const x = tf.tensor1d(XS);
    const w = tf.tensor1d([0.5, -1]);
    const r = new ppl.Predictive(model, {
      posteriorSamples: { w },
      returnSites: ['_RETURN', 'y', 'mu'],
    }).call(x);
    expect(r._RETURN?.shape).toEqual([2, 3]);
    const ret = rows(r._RETURN as tf.Tensor);
    rows(r.y as tf.Tensor).forEach((row, i) =>
      row.forEach((v, j) => expect(ret[i]?.[j]).toBeCloseTo(2 * v, 5)),
    );
    expect(rows(r.mu as tf.Tensor)).toEqual([
      [0.5, 1, -1.5],
      [-1, -2, 3],
    ]);
    tf.dispose([x, w, ...Object.values(r)]);
  });

  it('names returnSites when the model returns no tensor', () => {
    const quiet = (): void => void ppl.sample('a', new D.Normal(0, 1));
    expectNoLeak(() => {
      expect(() =>
        new ppl.Predictive(quiet, { numSamples: 2, returnSites: ['_RETURN'] }).call(),
      ).toThrow(/^returnSites: '_RETURN': the model returned nothing, not a tensor/);
    });
  });
});

describe('params (NumPyro`s Predictive(params=...))', () => {
  it('runs the guide and model at the given params, not the store`s', () => {
    const guide = (): void => {
      const loc = ppl.param('loc', 0);
      ppl.sample('w', new D.Normal(loc, 0.1));
    };
    const x = tf.tensor1d(XS);
    const loc = tf.scalar(3);
    for (const parallel of [false, true]) {
      setSeed(9);
      const r = new ppl.Predictive(model, {
        guide,
        numSamples: 400,
        params: { loc },
        parallel,
        returnSites: ['w', 'mu'],
      }).call(x);
      const [m] = meanVar(Array.from((r.w as tf.Tensor).dataSync()));
      expect(Math.abs(m - 3)).toBeLessThan((5 * 0.1) / Math.sqrt(400));
      expect(r.mu?.shape).toEqual([400, 3]);
      tf.dispose(Object.values(r));
    }
    expect(ppl.getParamStore().names()).toEqual([]); // the store was not touched
    expect(() => new ppl.Predictive(model, { params: { loc: 'x' } as never })).toThrow(
      /^params: Predictive: site 'loc': expected a live numeric tensor/,
    );
    tf.dispose([x, loc]);
  });
});

describe('parallel: all draws in one vectorized run', () => {
  it('from posterior samples: deterministic sites exact, observations N(mu, 0.5^2)', () => {
    const S = 3000;
    const x = tf.tensor1d(XS);
    const w = tf.linspace(-2, 2, S);
    const r = new ppl.Predictive(model, {
      posteriorSamples: { w },
      parallel: true,
      returnSites: ['mu', 'y', '_RETURN'],
    }).call(x);
    expect(r.mu?.shape).toEqual([S, 3]);
    expect(r.y?.shape).toEqual([S, 3]);
    expect(r._RETURN?.shape).toEqual([S, 3]);
    const wv = Array.from(w.dataSync());
    const mu = rows(r.mu as tf.Tensor);
    mu.forEach((row, i) =>
      row.forEach((v, j) => expect(v).toBeCloseTo((wv[i] as number) * (XS[j] as number), 5)),
    );
    const resid = rows(r.y as tf.Tensor).flatMap((row, i) =>
      row.map((v, j) => v - (mu[i]?.[j] as number)),
    );
    const [m, v] = meanVar(resid);
    const n = resid.length;
    expect(Math.abs(m)).toBeLessThan((5 * 0.5) / Math.sqrt(n));
    expect(Math.abs(v - 0.25)).toBeLessThan(5 * 0.25 * Math.sqrt(2 / (n - 1)));
    tf.dispose([x, w, ...Object.values(r)]);
  });

  it('from the prior: the same law as serial draws (w ~ N(0, 1), var y_i = x_i^2 + 1/4)', () => {
    setSeed(5);
    const S = 4000;
    const x = tf.tensor1d(XS);
    const r = new ppl.Predictive(model, { numSamples: S, parallel: true }).call(x);
    expect(Object.keys(r).sort()).toEqual(['mu', 'w', 'y']);
    expect(r.w?.shape).toEqual([S]);
    const [mw, vw] = meanVar(Array.from((r.w as tf.Tensor).dataSync()));
    expect(Math.abs(mw)).toBeLessThan(5 / Math.sqrt(S));
    expect(Math.abs(vw - 1)).toBeLessThan(5 * Math.sqrt(2 / (S - 1)));
    const y = rows(r.y as tf.Tensor);
    XS.forEach((xi, j) => {
      const [m, v] = meanVar(y.map((row) => row[j] as number));
      const s2 = xi * xi + 0.25;
      expect(Math.abs(m)).toBeLessThan(5 * Math.sqrt(s2 / S));
      expect(Math.abs(v - s2)).toBeLessThan(5 * s2 * Math.sqrt(2 / (S - 1)));
    });
    // the draws differ across the batch (one run, S independent draws)
    expect(new Set(Array.from((r.w as tf.Tensor).dataSync())).size).toBe(S);
    tf.dispose([x, ...Object.values(r)]);
  });

  it('from a guide: the model replayed at S vectorized guide draws', () => {
    setSeed(6);
    const S = 2000;
    const guide = (): void => void ppl.sample('w', new D.Normal(2, 0.1));
    const x = tf.tensor1d(XS);
    const r = new ppl.Predictive(model, { guide, numSamples: S, parallel: true }).call(x);
    expect(Object.keys(r).sort()).toEqual(['mu', 'y']); // the guide's latent w is not predictive
    const y = rows(r.y as tf.Tensor);
    XS.forEach((xi, j) => {
      const [m] = meanVar(y.map((row) => row[j] as number));
      const sd = Math.sqrt(0.01 * xi * xi + 0.25);
      expect(Math.abs(m - 2 * xi)).toBeLessThan((5 * sd) / Math.sqrt(S));
    });
    tf.dispose([x, ...Object.values(r)]);
  });

  it('reshapes event-shaped latents left of the plates, and groups by chain with batchNdims 2', () => {
    // locs: an event of 3 outside the data plate; y_i ~ N(sum(locs), 0.01)
    const m2 = (n: number): void => {
      const locs = ppl.sample('locs', new D.Normal(tf.zeros([3]), 1).toEvent(1));
      const s = tf.sum(locs, -1);
      ppl.plate('data', n, () => ppl.sample('y', new D.Normal(s, 0.01)));
    };
    const locs = tf.tensor3d([
      [
        [1, 2, 3],
        [0, 0, 1],
      ],
      [
        [-1, 0, 0],
        [2, 2, 2],
      ],
    ]); // [2 chains, 2 draws, 3]
    const r = new ppl.Predictive(m2, {
      posteriorSamples: { locs },
      batchNdims: 2,
      parallel: true,
    }).call(4);
    expect(r.y?.shape).toEqual([2, 2, 4]);
    const y = r.y?.arraySync() as number[][][];
    const sums = [
      [6, 1],
      [-1, 6],
    ];
    sums.forEach((row, c) =>
      row.forEach((s, d) => y[c]?.[d]?.forEach((v) => expect(Math.abs(v - s)).toBeLessThan(0.06))),
    );
    tf.dispose([locs, ...Object.values(r)]);
  });

  it('refuses bad options naming them, and leaks nothing', () => {
    const x = tf.tensor1d(XS);
    expect(() => new ppl.Predictive(model, { parallel: 1 as never })).toThrow(
      /^parallel: expected a boolean/,
    );
    expect(() => new ppl.Predictive(model, { parallel: true, inferDiscrete: true })).toThrow(
      /^parallel: inferDiscrete draws discrete sites one run at a time/,
    );
    expect(() => new ppl.Predictive(model, { maxPlateNesting: -1 })).toThrow(
      /^maxPlateNesting: expected an integer >= 0/,
    );
    expectNoLeak(() => {
      expect(() =>
        new ppl.Predictive(model, { numSamples: 2, parallel: true, maxPlateNesting: 0 }).call(x),
      ).toThrow(/^maxPlateNesting: expected at least 1/);
    });
    expectNoLeak(() => {
      const r = new ppl.Predictive(model, { numSamples: 5, parallel: true }).call(x);
      return Object.values(r);
    });
    x.dispose();
  });
});
