/**
 * The rest of Pyro's enumeration options in `TraceEnumELBO`: `configEnumerate(fn, 'parallel',
 * {expand})` (values over the whole batch shape, same loss), `numSamples` (Pyro's sampled
 * enumeration: S draws along the enumeration dim, weighted 1/S with DiCE gradients) in the model
 * (log-mean-exp estimate of log p(x) and its gradient, within their Monte Carlo error) and in the
 * guide (unbiased ELBO and gradient, within 4 standard errors computed in float64), a sequential
 * guide site in a subsampled plate (the plate's scale), and `iterDiscreteTraces` escaping inside
 * a plate.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';
import { lse, normalLp, softmax } from '../fixtures/float64.js';
import { elboAndGrad } from '../fixtures/elbo.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const x = [0.4, -1.1, 1.9];
const locs = [-1, 0.5, 2];

describe('configEnumerate expand', () => {
  const model = (): void => {
    ppl.plate('data', x.length, () => {
      const z = ppl.sample('z', new D.Categorical({ probs: [0.2, 0.5, 0.3] }));
      ppl.sample('x', new D.Normal(tf.gather(tf.tensor1d(locs), tf.cast(z, 'int32')), 1), {
        obs: tf.tensor1d(x),
      });
    });
  };

  it('gives the values over the batch shape; the loss is the same (exact)', () => {
    const shapeOf = (fn: () => void): number[] => {
      const tr = ppl.trace(ppl.enumerate(fn, -2)).getTrace();
      const shape = [...tr.value('z').shape];
      tr.dispose();
      return shape;
    };
    const plain = ppl.configEnumerate(model);
    const expanded = ppl.configEnumerate(model, 'parallel', { expand: true });
    expect(shapeOf(plain)).toEqual([3, 1]);
    expect(shapeOf(expanded)).toEqual([3, 3]);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const exact = x.reduce(
      (a, xi) =>
        a + lse(locs.map((m, k) => Math.log([0.2, 0.5, 0.3][k] as number) + normalLp(xi, m))),
      0,
    );
    let a = 0;
    let b = 0;
    expectNoLeak(() => {
      a = elbo.loss(plain, () => undefined);
      b = elbo.loss(expanded, () => undefined);
    });
    expect(-a).toBeCloseTo(exact, 4);
    expect(b).toBeCloseTo(a, 5);
  });
});

describe('numSamples: sampled enumeration', { timeout: 60_000 }, () => {
  const prior0 = [0.3, -0.2, 0.1];

  it('in the model: log-mean-exp of p(x | z_s) over S draws and its DiCE gradient', () => {
    setSeed(11);
    const S = 4000;
    const phi = tf.variable(tf.tensor1d(prior0));
    const model = ppl.configEnumerate(
      (): void => {
        const z = ppl.sample('z', new D.Categorical({ logits: phi }));
        ppl.plate('data', x.length, () => {
          const loc = tf.gather(tf.tensor1d(locs), tf.cast(z, 'int32'));
          ppl.sample('x', new D.Normal(loc, 1), { obs: tf.tensor1d(x) });
        });
      },
      'parallel',
      { numSamples: S },
    );
    const tr = ppl.trace(ppl.enumerate(model, -2)).getTrace();
    expect(tr.value('z').shape).toEqual([S, 1]);
    expect(tr.get('z')?.infer.numSamples).toBe(S);
    tr.dispose();
    const prior = softmax(prior0);
    const lik = locs.map((m) => Math.exp(x.reduce((a, xi) => a + normalLp(xi, m), 0)));
    const px = prior.reduce((a, p, k) => a + p * (lik[k] as number), 0);
    const post = prior.map((p, k) => (p * (lik[k] as number)) / px);
    // relative standard error of the mean of p(x | z_s): the log's error (delta method)
    const m2 = prior.reduce((a, p, k) => a + p * (lik[k] as number) ** 2, 0);
    const relSe = Math.sqrt(m2 / px ** 2 - 1) / Math.sqrt(S);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const { value, grad } = elboAndGrad(
      () => elbo.differentiableLoss(model, () => undefined, []),
      [phi],
    );
    expect(Math.abs(value - Math.log(px))).toBeLessThan(4 * relSe + 1e-4);
    // d log p(x) / d logits = posterior - prior (self-normalized over the draws)
    grad.forEach((g, k) =>
      expect(Math.abs(g - ((post[k] as number) - (prior[k] as number)))).toBeLessThan(0.05),
    );
    // the exact gradient is far from 0: a DiCE factor without its score gradient would fail
    expect(Math.max(...post.map((p, k) => Math.abs(p - (prior[k] as number))))).toBeGreaterThan(
      0.2,
    );
    phi.dispose();
  });

  it('in the guide: an unbiased ELBO and gradient (within 4 standard errors)', () => {
    setSeed(5);
    const S = 4000;
    const t0 = [0.5, -0.4, 0.2];
    const theta = tf.variable(tf.tensor1d(t0));
    const prior = [0.2, 0.5, 0.3];
    const model = (): void => {
      const z = ppl.sample('z', new D.Categorical({ probs: prior }));
      ppl.plate('data', x.length, () => {
        const loc = tf.gather(tf.tensor1d(locs), tf.cast(z, 'int32'));
        ppl.sample('x', new D.Normal(loc, 1), { obs: tf.tensor1d(x) });
      });
    };
    const guide = ppl.configEnumerate(
      (): void => {
        ppl.sample('z', new D.Categorical({ logits: theta }));
      },
      'parallel',
      { numSamples: S },
    );
    const q = softmax(t0);
    const f = q.map(
      (qk, k) =>
        Math.log(prior[k] as number) +
        x.reduce((a, xi) => a + normalLp(xi, locs[k] as number), 0) -
        Math.log(qk),
    );
    const mean = (g: number[]): number => q.reduce((a, qk, k) => a + qk * (g[k] as number), 0);
    const sd = (g: number[]): number =>
      Math.sqrt(Math.max(0, mean(g.map((v) => v * v)) - mean(g) ** 2));
    const exact = mean(f);
    // per draw z = k, the gradient in theta_j is (1[k = j] - q_j) f_k - (1[k = j] - q_j)
    const gj = (j: number): number[] =>
      f.map((fk, k) => ((k === j ? 1 : 0) - (q[j] as number)) * (fk - 1));
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const { value, grad } = elboAndGrad(() => elbo.differentiableLoss(model, guide, []), [theta]);
    expect(Math.abs(value - exact)).toBeLessThan((4 * sd(f)) / Math.sqrt(S));
    grad.forEach((g, j) => {
      const ref = mean(gj(j));
      expect(Math.abs(g - ref)).toBeLessThan((4 * sd(gj(j))) / Math.sqrt(S) + 1e-4);
    });
    // the exact gradient is far from 0 here: a missing score term would fail
    expect(Math.max(...[0, 1, 2].map((j) => Math.abs(mean(gj(j)))))).toBeGreaterThan(0.3);
    theta.dispose();
  });
});

describe('numSamples inside markov', { timeout: 60_000 }, () => {
  it('each step draws S values per draw of the previous step; estimates log p(y)', () => {
    setSeed(2);
    const S = 300;
    const init = [0.6, 0.4];
    const trans = [
      [0.8, 0.2],
      [0.3, 0.7],
    ];
    const mus = [-1, 1.2];
    const ys = [-0.8, 0.9];
    const model = ppl.configEnumerate(
      (): void => {
        let x: tf.Tensor | null = null;
        for (const t of ppl.markov(ys.length)) {
          const probs =
            x === null ? tf.tensor1d(init) : tf.gather(tf.tensor2d(trans), tf.cast(x, 'int32'));
          x = ppl.sample(`x_${t}`, new D.Categorical({ probs }));
          const loc = tf.gather(tf.tensor1d(mus), tf.cast(x, 'int32'));
          ppl.sample(`y_${t}`, new D.Normal(loc, 1), { obs: tf.scalar(ys[t] as number) });
        }
      },
      'parallel',
      { numSamples: S },
    );
    const tr = ppl.trace(ppl.enumerate(model, -1)).getTrace();
    // x_0 at dim -1; x_1 at -2, S draws per draw of x_0 (so its value carries dim -1 too, and a
    // next step could not reuse it: sampled chains grow a dim per step, as in Pyro)
    expect(tr.value('x_0').shape).toEqual([S]);
    expect(tr.value('x_1').shape).toEqual([S, S]);
    tr.dispose();
    // the forward algorithm in float64
    let alpha = init.map((p, k) => p * Math.exp(normalLp(ys[0] as number, mus[k] as number)));
    for (let t = 1; t < ys.length; t++) {
      alpha = [0, 1].map(
        (k) =>
          alpha.reduce((a, ak, j) => a + ak * ((trans[j] as number[])[k] as number), 0) *
          Math.exp(normalLp(ys[t] as number, mus[k] as number)),
      );
    }
    const logPy = Math.log(alpha[0]! + alpha[1]!);
    let loss = 0;
    expectNoLeak(() => {
      loss = new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(model, () => undefined);
    });
    // a nested Monte Carlo estimate (S draws per step): within a few percent of p(y)
    expect(Math.abs(-loss - logPy)).toBeLessThan(0.1);
  });
});

describe('a sequential guide site in a subsampled plate', () => {
  it('weighs the members visited by the plate scale N / B (float64 reference)', () => {
    const y = [0.3, -0.7, 1.6, 2.2];
    const idx = [1, 3];
    const pz = [0.4, 0.6];
    const mu = [-0.5, 1.5];
    const t0 = [0.2, -0.3, 0.5, 0.1, -0.6, 0.4, 0.3, -0.2];
    const logits = tf.variable(tf.tensor2d(t0, [4, 2]));
    const model = (): void => {
      ppl.plate('data', y.length, { subsample: idx }, (ix) => {
        const z = ppl.sample('z', new D.Categorical({ probs: pz }));
        const loc = tf.gather(tf.tensor1d(mu), tf.cast(z, 'int32'));
        ppl.sample('y', new D.Normal(loc, 1), { obs: tf.gather(tf.tensor1d(y), ix) });
      });
    };
    const guide = (): void => {
      ppl.plate('data', y.length, { subsample: idx }, (ix) => {
        ppl.sample('z', new D.Categorical({ logits: tf.gather(logits, ix) }), {
          infer: { enumerate: 'sequential' },
        });
      });
    };
    const exact = (flat: number[]): number =>
      (y.length / idx.length) *
      idx.reduce((acc, i) => {
        const q = softmax(flat.slice(2 * i, 2 * i + 2));
        return (
          acc +
          q.reduce(
            (a, qk, k) =>
              a +
              qk *
                (Math.log(pz[k] as number) +
                  normalLp(y[i] as number, mu[k] as number) -
                  Math.log(qk)),
            0,
          )
        );
      }, 0);
    const elbo = new ppl.TraceEnumELBO({ maxPlateNesting: 1 });
    const { value, grad } = elboAndGrad(() => elbo.differentiableLoss(model, guide, []), [logits]);
    expect(value).toBeCloseTo(exact(t0), 3);
    // members not visited get no gradient; the visited ones the scaled one
    const h = 1e-5;
    grad.forEach((g, j) => {
      const tp = [...t0];
      const tm = [...t0];
      tp[j] = (tp[j] as number) + h;
      tm[j] = (tm[j] as number) - h;
      expect(Math.abs(g - (exact(tp) - exact(tm)) / (2 * h))).toBeLessThan(2e-3);
    });
    expect(Math.abs(grad[0] as number)).toBe(0);
    logits.dispose();
  });
});

describe('iterDiscreteTraces with a sequential site inside a plate', () => {
  it('yields one trace per value (the escape leaves the plate), no tensor left behind', () => {
    const model = (): void => {
      ppl.plate('data', 3, () => {
        ppl.sample('z', new D.Categorical({ probs: [0.2, 0.3, 0.5] }), {
          infer: { enumerate: 'sequential' },
        });
      });
    };
    const before = tf.memory().numTensors;
    const values: number[][] = [];
    for (const tr of ppl.iterDiscreteTraces(model)) {
      values.push(Array.from(tr.value('z').dataSync()));
      tr.dispose();
    }
    expect(values.sort()).toEqual([
      [0, 0, 0],
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
