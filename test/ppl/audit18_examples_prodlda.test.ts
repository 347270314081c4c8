/**
 * NumPyro's `prodlda.py` (ProdLDA, amortized SVI for topic models), ported tiny as its users
 * write it: per document `theta ~ Dirichlet(1)` in a `documents` plate, the words scored by
 * `Multinomial(docs.sum(-1), logits=decoder(theta))` — one total count per document, which
 * `Multinomial` refused (its `totalCount` was one number), the minibatch taken by
 * `subsample(docs, event_dim=1)` inside a subsampled plate (missing: `ppl.subsample` was only the
 * plate's index site) — and an encoder network registered with
 * `pyroModule` giving each document's Dirichlet concentration in the guide. The decoder is a fixed
 * product of experts `logits = theta W` over 2 topics, so each document's exact posterior of
 * `theta = (t, 1 - t)` is a 1-d integral (float64 grid). References: the batched `Multinomial`
 * against closed forms and draws; after SVI, each document's guide mean against the exact posterior
 * mean, and the ELBO below the exact log evidence.
 */
import * as tf from '@tensorflow/tfjs';
import gammaln from '@stdlib/math-base-special-gammaln';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** log Multinomial(x; sum x, p) in float64. */
const multinomialLp = (x: number[], p: number[]): number =>
  gammaln(x.reduce((a, b) => a + b, 0) + 1) +
  x.reduce((a, v, k) => a - gammaln(v + 1) + (v === 0 ? 0 : v * Math.log(p[k]!)), 0);

describe('Multinomial with a tensor of total counts (NumPyro)', () => {
  it('each batch entry has its own n: log-probabilities, support, moments against closed forms', () => {
    const p = [
      [0.2, 0.3, 0.5],
      [0.6, 0.1, 0.3],
    ];
    const d = new D.Multinomial([3, 5], { probs: p });
    expect(d.batchShape).toEqual([2]);
    expect(d.eventShape).toEqual([3]);
    const x = tf.tensor2d([
      [1, 1, 1],
      [0, 2, 3],
    ]);
    const lp = expectNoLeak(() => d.logProb(x));
    expect(lp[0]).toBeCloseTo(multinomialLp([1, 1, 1], p[0]!), 5);
    expect(lp[1]).toBeCloseTo(multinomialLp([0, 2, 3], p[1]!), 5);
    // a count vector with the other row's total lies outside the support
    const bad = tf.tensor2d([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(() => d.logProb(bad)).toThrow(/support/);
    const mean = expectNoLeak(() => d.mean());
    const variance = expectNoLeak(() => d.variance());
    [3, 5].forEach((n, r) =>
      p[r]!.forEach((pk, k) => {
        expect(mean[r * 3 + k]).toBeCloseTo(n * pk, 5);
        expect(variance[r * 3 + k]).toBeCloseTo(n * pk * (1 - pk), 5);
      }),
    );
    d.dispose();
    tf.dispose([x, bad]);
    // totals broadcast against the probabilities' batch: [2, 1] x [3] -> batch [2, 3]
    const e = new D.Multinomial([[2], [4]], { probs: [0.5, 0.25, 0.25] });
    expect(e.batchShape).toEqual([2, 1]);
    e.dispose();
    const f = new D.Multinomial([[2], [4]], {
      probs: [
        [0.5, 0.5],
        [0.1, 0.9],
        [1, 0],
      ],
    });
    expect(f.batchShape).toEqual([2, 3]);
    expect(expectNoLeak(() => f.mean()).length).toBe(12);
    f.dispose();
  });

  it('draws sum to each entry own n, with means n p (5 SE)', () => {
    const d = new D.Multinomial(tf.tensor1d([2, 7]), { probs: [0.25, 0.75] });
    const S = 4000;
    const x = expectNoLeak(() => d.sample([S], 11));
    const sums = [0, 0];
    for (let s = 0; s < S; s++) {
      for (let r = 0; r < 2; r++) {
        const a = x[(s * 2 + r) * 2]!;
        const b = x[(s * 2 + r) * 2 + 1]!;
        expect(a + b).toBe(r === 0 ? 2 : 7);
        sums[r] = sums[r]! + a;
      }
    }
    [2, 7].forEach((n, r) => {
      const se = Math.sqrt((n * 0.25 * 0.75) / S);
      expect(Math.abs(sums[r]! / S - n * 0.25)).toBeLessThan(5 * se);
    });
    d.dispose();
  });

  it('bad totals are refused naming totalCount, with nothing leaked', () => {
    const before = tf.memory().numTensors;
    expect(() => new D.Multinomial([3, 2.5], { probs: [0.5, 0.5] })).toThrow(ArgumentError);
    expect(() => new D.Multinomial([3, 2.5], { probs: [0.5, 0.5] })).toThrow(
      /totalCount.*non-negative integer.*index 1/,
    );
    expect(() => new D.Multinomial([3, -1], { probs: [0.5, 0.5] })).toThrow(/totalCount/);
    expect(
      () =>
        new D.Multinomial([3, 2, 1], {
          probs: [
            [0.5, 0.5],
            [0.5, 0.5],
          ],
        }),
    ).toThrow(/totalCount/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('DirichletMultinomial with a tensor of total counts (NumPyro)', () => {
  it('log-mass, moments and draws per entry n against closed forms', () => {
    const alpha = [
      [1, 2, 0.5],
      [3, 0.7, 1.2],
    ];
    const d = new D.DirichletMultinomial(alpha, [4, 6]);
    expect(d.batchShape).toEqual([2]);
    const xv = [
      [1, 2, 1],
      [3, 0, 3],
    ];
    const x = tf.tensor2d(xv);
    const lp = expectNoLeak(() => d.logProb(x));
    xv.forEach((row, r) => {
      const a = alpha[r]!;
      const n = row.reduce((u, v) => u + v, 0);
      const a0 = a.reduce((u, v) => u + v, 0);
      let want = gammaln(n + 1) + gammaln(a0) - gammaln(n + a0);
      row.forEach((k, j) => (want += gammaln(k + a[j]!) - gammaln(k + 1) - gammaln(a[j]!)));
      expect(lp[r]).toBeCloseTo(want, 4);
    });
    const mean = expectNoLeak(() => d.mean());
    const variance = expectNoLeak(() => d.variance());
    [4, 6].forEach((n, r) => {
      const a0 = alpha[r]!.reduce((u, v) => u + v, 0);
      alpha[r]!.forEach((a, j) => {
        const p = a / a0;
        expect(mean[r * 3 + j]).toBeCloseTo(n * p, 5);
        expect(variance[r * 3 + j]).toBeCloseTo((n * p * (1 - p) * (n + a0)) / (1 + a0), 4);
      });
    });
    const S = 3000;
    const draws = expectNoLeak(() => d.sample([S], 5));
    const first = [0, 0];
    for (let s = 0; s < S; s++)
      for (let r = 0; r < 2; r++) {
        const row = draws.slice((s * 2 + r) * 3, (s * 2 + r + 1) * 3);
        expect(row.reduce((u, v) => u + v, 0)).toBe(r === 0 ? 4 : 6);
        first[r] = first[r]! + row[0]!;
      }
    [0, 1].forEach((r) => {
      const se = Math.sqrt(variance[r * 3]! / S);
      expect(Math.abs(first[r]! / S - mean[r * 3]!)).toBeLessThan(5 * se);
    });
    const bad = tf.tensor2d([
      [1, 2, 1],
      [1, 2, 1],
    ]);
    expect(() => d.logProb(bad)).toThrow(/support/);
    d.dispose();
    tf.dispose([x, bad]);
    const before = tf.memory().numTensors;
    expect(() => new D.DirichletMultinomial([1, 1], [2, 0.5])).toThrow(/totalCount.*index 1/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("NumPyro's ProdLDA (tiny)", { timeout: 120_000 }, () => {
  const W = [
    [2, 1, -1, -2],
    [-2, -1, 1, 2],
  ];
  const docsV = [
    [5, 2, 0, 0],
    [0, 1, 3, 4],
    [2, 2, 1, 1],
    [1, 0, 0, 0],
    [3, 0, 1, 6],
    [0, 0, 2, 1],
  ];
  const K = 2;

  /** Exact posterior mean of t and log evidence per document (float64 grid, t ~ U(0, 1)). */
  const exact = docsV.map((x) => {
    const G = 4000;
    let z = 0;
    let m = 0;
    for (let i = 0; i < G; i++) {
      const t = (i + 0.5) / G;
      const eta = W[0]!.map((w0, v) => t * w0 + (1 - t) * W[1]![v]!);
      const mx = Math.max(...eta);
      const lse = mx + Math.log(eta.reduce((a, e) => a + Math.exp(e - mx), 0));
      const w = Math.exp(
        multinomialLp(
          x,
          eta.map((e) => Math.exp(e - lse)),
        ),
      );
      z += w / G;
      m += (w * t) / G;
    }
    return { mean: m / z, logZ: Math.log(z) };
  });

  it('SVI with an amortized Dirichlet encoder reaches each document exact posterior mean; the ELBO stays below log p(x)', () => {
    setSeed(3);
    // the encoder reads each document's one-hot id (enough capacity for one Dirichlet per document)
    const encoderNet = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [docsV.length],
          units: K,
          kernelInitializer: 'zeros',
        }),
      ],
    });
    const Wt = tf.tensor2d(W);
    const ids = tf.eye(docsV.length);
    const model = (docs: tf.Tensor): void => {
      ppl.plate('documents', docs.shape[0] as number, () => {
        const theta = ppl.sample('theta', new D.Dirichlet(tf.ones([K])));
        const logits = tf.matMul(theta, Wt);
        const totalCount = tf.sum(docs, -1);
        ppl.sample('obs', new D.Multinomial(totalCount, { logits }), { obs: docs });
      });
    };
    const guide = (docs: tf.Tensor): void => {
      const encoder = ppl.pyroModule('encoder', encoderNet);
      ppl.plate('documents', docs.shape[0] as number, () => {
        const concentration = tf.exp(encoder(ids));
        ppl.sample('theta', new D.Dirichlet(concentration));
      });
    };
    const docs = tf.tensor2d(docsV);
    // Adam at 0.1, then at 0.02 (the same params: the network's variables)
    const mf = new ppl.TraceMeanFieldELBO();
    const fast = new ppl.SVI(model, guide, tf.train.adam(0.1), mf);
    for (let i = 0; i < 150; i++) fast.step(docs);
    const slow = new ppl.SVI(model, guide, tf.train.adam(0.02), mf);
    for (let i = 0; i < 150; i++) slow.step(docs);
    // the guide's mean of t per document
    const means = tf.tidy(() => {
      const conc = tf.exp(encoderNet.predict(ids) as tf.Tensor);
      return tf.div(conc, tf.sum(conc, -1, true));
    });
    const mv = means.arraySync() as number[][];
    means.dispose();
    exact.forEach((e, i) => expect(Math.abs(mv[i]![0]! - e.mean)).toBeLessThan(0.04));
    // ELBO (many particles) <= log evidence = sum of the documents' log Z, and close to it
    const elbo = new ppl.TraceMeanFieldELBO({ numParticles: 200 });
    const loss = elbo.loss(model, guide, docs);
    const logZ = exact.reduce((a, e) => a + e.logZ, 0);
    expect(-loss).toBeLessThan(logZ + 0.05);
    expect(-loss).toBeGreaterThan(logZ - 0.3);
    tf.dispose([docs, Wt, ids]);
    encoderNet.dispose();
  });
});

describe("Pyro's/NumPyro's subsample(data, event_dim)", () => {
  const docsV = Array.from({ length: 10 }, (_, i) => [i, 10 * i, 100 * i]);

  it('gathers the rows the enclosing subsampled plates visit, and nothing else', () => {
    setSeed(4);
    const docs = tf.tensor2d(docsV);
    const before = tf.memory().numTensors;
    // outside any plate, and under a plate visiting every member: the data itself
    expect(expectNoLeak(() => ppl.subsample(docs, 1))).toEqual(docsV.flat());
    // (a plate's indices outside any trace are freed by the enclosing tidy)
    tf.tidy(() =>
      ppl.plate('all', 10, () => {
        expect(expectNoLeak(() => ppl.subsample(docs, 1))).toEqual(docsV.flat());
      }),
    );
    // a subsampled plate at dim -1: rows at the plate's indices
    tf.tidy(() =>
      ppl.plate('documents', 10, { subsampleSize: 4 }, (idx) => {
        const rows = Array.from(idx.dataSync());
        const got = expectNoLeak(() => ppl.subsample(docs, 1));
        expect(got).toEqual(rows.flatMap((r) => docsV[r]!));
        // eventDim 0 on a vector: the same rows; a size-1 axis broadcasts, untouched
        const col = tf.tensor1d(docsV.map((r) => r[0]!));
        expect(expectNoLeak(() => ppl.subsample(col, 0))).toEqual(rows);
        const one = tf.tensor2d([[1, 2, 3]]);
        expect(expectNoLeak(() => ppl.subsample(one, 1))).toEqual([1, 2, 3]);
        // already subsampled data (size B) is left alone, as NumPyro
        const b = tf.zeros([4, 3]);
        expect(expectNoLeak(() => ppl.subsample(b, 1)).length).toBe(12);
        tf.dispose([col, one, b]);
      }),
    );
    // two subsampled plates: a [10, 6] matrix cut at both axes
    const m = tf.tensor2d(
      Array.from({ length: 60 }, (_, k) => k),
      [10, 6],
    );
    tf.tidy(() =>
      ppl.plate('rows', 10, { subsampleSize: 3, dim: -2 }, (ri) =>
        ppl.plate('cols', 6, { subsampleSize: 2, dim: -1 }, (ci) => {
          const r = Array.from(ri.dataSync());
          const c = Array.from(ci.dataSync());
          const got = expectNoLeak(() => ppl.subsample(m, 0));
          expect(got).toEqual(r.flatMap((i) => c.map((j) => i * 6 + j)));
        }),
      ),
    );
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
    docs.dispose();
  });

  it('bad data or eventDim are refused naming them', () => {
    const docs = tf.tensor2d(docsV);
    const before = tf.memory().numTensors;
    expect(() => ppl.plate('d', 7, { subsampleSize: 3 }, () => ppl.subsample(docs, 1))).toThrow(
      /data.*plate 'd'.*size 10.*expected 1, 7 or 3/,
    );
    expect(() => ppl.subsample(docs, -1)).toThrow(/eventDim/);
    expect(() => ppl.subsample(docs, 1.5)).toThrow(ArgumentError);
    expect(tf.memory().numTensors).toBe(before);
    docs.dispose();
  });

  it('ProdLDA minibatches: the model replayed on the guide sees the rows of the guide plate, scaled N / B', () => {
    setSeed(8);
    const docs = tf.tensor2d(docsV);
    const K = 2;
    const model = (d: tf.Tensor): void => {
      ppl.plate('documents', d.shape[0] as number, { subsampleSize: 4 }, () => {
        const batch = ppl.subsample(d, 1);
        const theta = ppl.sample('theta', new D.Dirichlet(tf.ones([K])));
        const logits = tf.matMul(theta, tf.zeros([K, 3]));
        ppl.sample('obs', new D.Multinomial(tf.sum(batch, -1), { logits }), { obs: batch });
      });
    };
    const guide = (d: tf.Tensor): void => {
      ppl.plate('documents', d.shape[0] as number, { subsampleSize: 4 }, () => {
        const batch = ppl.subsample(d, 1);
        ppl.sample(
          'theta',
          new D.Dirichlet(tf.add(tf.ones([4, K]), tf.div(batch.slice([0, 0], [4, K]), 100))),
        );
      });
    };
    const before = tf.memory().numTensors;
    const gt = ppl.trace(guide).getTrace(docs);
    const mt = ppl.trace(ppl.replay(model, { trace: gt })).getTrace(docs);
    const idx = Array.from(gt.value('documents').dataSync());
    expect(Array.from(mt.value('documents').dataSync())).toEqual(idx);
    expect(Array.from(mt.value('obs').dataSync())).toEqual(idx.flatMap((r) => docsV[r]!));
    expect(mt.get('obs')!.scale).toBe(10 / 4);
    gt.dispose();
    mt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    docs.dispose();
  });
});
