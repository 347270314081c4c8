/**
 * Audit 16: `TraceGraphELBO`'s baselines follow Pyro's `TraceGraph_ELBO` — a site without
 * `infer.baseline` gets none (the old default, a decaying average, stays behind
 * `defaultBaseline: 'decayingAverage'`); the decaying average is kept per element of the site's
 * downstream cost (its batch shape), starts at 0 and is read before each update. References: the
 * exact score-function gradient of a draw in closed form, the average's recursion in float64, the
 * exact ELBO gradient by enumeration of a Bernoulli latent (central differences in float64),
 * Monte Carlo means within 4 standard errors.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const meanSd = (xs: number[]): { mean: number; se: number; sd: number } => {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return { mean, se: sd / Math.sqrt(n), sd };
};
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Gradients of `-ELBO` in the named (unconstrained) params, flattened. */
function lossGrads(loss: () => tf.Scalar, names: string[]): number[] {
  const vars = ppl.getParamStore().variables(names);
  const { value, grads } = tf.variableGrads(loss, vars);
  const out = vars.flatMap((v) => Array.from((grads[v.name] as tf.Tensor).dataSync()));
  value.dispose();
  tf.dispose(grads);
  return out;
}

// x_i | z_i ~ N(3 z_i - 1.5, 1.2), z_i ~ Bernoulli(0.4) in a plate; the exact posterior logit of
// z_i is a_i = logit(0.4) + log N(x_i; 1.5) - log N(x_i; -1.5): with q(z_i) = Bernoulli(a_i) the
// downstream cost of z_i is log p(x_i) whatever z_i is drawn
const xs = [0.7, -1.9, 2.3];
const N = xs.length;
const lik = (x: number, z: number): number => normalRef.pdf(x, 3 * z - 1.5, 1.2);
const exactLogit = xs.map((x) => Math.log(0.4 / 0.6) + Math.log(lik(x, 1)) - Math.log(lik(x, 0)));
const logpx = xs.map((x) => Math.log(0.4 * lik(x, 1) + 0.6 * lik(x, 0)));
const localModel = (obs: tf.Tensor): void => {
  ppl.plate('data', N, () => {
    const z = ppl.sample('z', new D.Bernoulli(tf.fill([N], 0.4)));
    ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 3), 1.5), 1.2), { obs });
  });
};
const localGuide = (baseline?: unknown) => (): void => {
  const a = ppl.param('a', tf.tensor1d(exactLogit));
  ppl.plate('data', N, () =>
    ppl.sample(
      'z',
      new D.Bernoulli({ logits: a }),
      baseline === undefined ? {} : { infer: { baseline } },
    ),
  );
};

describe('TraceGraphELBO baselines as Pyro', { timeout: 600_000 }, () => {
  it("a site without infer.baseline gets none (Pyro's default): each draw's gradient is (z_i - q_i) log p(x_i)", () => {
    const x = tf.tensor1d(xs);
    tf.tidy(() => ppl.param('a', tf.tensor1d(exactLogit)));
    setSeed(1);
    const elbo = new ppl.TraceGraphELBO();
    const guide = localGuide();
    const before = tf.memory().numTensors;
    for (let r = 0; r < 8; r++) {
      const g = lossGrads(() => elbo.differentiableLoss(localModel, guide, [x]), ['a']);
      // d(-ELBO)/d a_i = -(z_i - q_i) cost_i with z_i in {0, 1}: one of the two values exactly
      g.forEach((v, i) => {
        const q = sigmoid(exactLogit[i] as number);
        const c = logpx[i] as number;
        const err = Math.min(Math.abs(v + (1 - q) * c), Math.abs(v - q * c));
        expect(err, `draw ${r} member ${i}: ${v}`).toBeLessThan(1e-4);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(elbo.baselines.size).toBe(0);
    // `{}` and a dict with only baselineBeta keep no average either (Pyro's defaults)
    for (const b of [{}, { baselineBeta: 0.5 }, false]) {
      const e = new ppl.TraceGraphELBO();
      e.loss(localModel, localGuide(b), x);
      expect(e.baselines.size).toBe(0);
    }
    x.dispose();
  });

  it('the decaying average is kept per member (the cost shape), from 0, read before each update', () => {
    const x = tf.tensor1d(xs);
    tf.tidy(() => ppl.param('a', tf.tensor1d(exactLogit)));
    setSeed(2);
    for (const [elbo, guide, beta] of [
      [new ppl.TraceGraphELBO(), localGuide({ useDecayingAvgBaseline: true }), 0.9],
      [
        new ppl.TraceGraphELBO(),
        localGuide({ useDecayingAvgBaseline: true, baselineBeta: 0.5 }),
        0.5,
      ],
      // the old default, kept behind an option, with the ELBO's beta
      [
        new ppl.TraceGraphELBO({ defaultBaseline: 'decayingAverage', baselineBeta: 0.8 }),
        localGuide(),
        0.8,
      ],
      [new ppl.TraceGraphELBO({ baselineBeta: 0.7 }), localGuide(true), 0.7],
    ] as const) {
      // the cost of member i is the constant log p(x_i): after k steps the average is
      // (1 - beta^k) log p(x_i), and step k's gradient is -(z_i - q_i)(cost_i - avg_{k-1, i})
      const before = tf.memory().numTensors;
      for (let k = 1; k <= 6; k++) {
        const g = lossGrads(() => elbo.differentiableLoss(localModel, guide, [x]), ['a']);
        g.forEach((v, i) => {
          const q = sigmoid(exactLogit[i] as number);
          const c = (logpx[i] as number) * beta ** (k - 1);
          const err = Math.min(Math.abs(v + (1 - q) * c), Math.abs(v - q * c));
          expect(err, `beta ${beta} step ${k} member ${i}: ${v}`).toBeLessThan(1e-4);
        });
        const avg = elbo.baselines.get('z');
        expect(avg?.shape).toEqual([N]);
        avg?.values.forEach((v, i) =>
          expect(v).toBeCloseTo((1 - beta ** k) * (logpx[i] as number), 4),
        );
        // loss() evaluates the ELBO without updating the average (Pyro's loss)
        const l = elbo.loss(localModel, guide, x);
        expect(l).toBeCloseTo(-logpx.reduce((a, b) => a + b, 0), 4);
        expect(elbo.baselines.get('z')?.values).toEqual(avg?.values);
      }
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
  });

  it('with and without the average the gradient is unbiased (exact by enumeration); the average cuts its sd', () => {
    // a global z ~ Bernoulli(0.3), x_j | z ~ N(3 z - 1.5, 1.2); q(z) = Bernoulli(sigmoid(t)) at
    // t = 0.4 (not the posterior); the exact ELBO sums the two values of z
    const data = [0.4, -0.3, 1.1, 0.9];
    const x = tf.tensor1d(data);
    const model = (obs: tf.Tensor): void => {
      const z = ppl.sample('z', new D.Bernoulli({ probs: 0.3 }));
      ppl.plate('data', data.length, () =>
        ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 3), 1.5), 1.2), { obs }),
      );
    };
    const guideWith = (baseline: unknown) => (): void => {
      const t = ppl.param('t', 0.4);
      ppl.sample('z', new D.Bernoulli({ logits: t }), { infer: { baseline } });
    };
    const logJoint = (z: number): number =>
      Math.log(z === 1 ? 0.3 : 0.7) + data.reduce((a, v) => a + Math.log(lik(v, z)), 0);
    const elboExact = (t: number): number => {
      const q = sigmoid(t);
      return q * (logJoint(1) - Math.log(q)) + (1 - q) * (logJoint(0) - Math.log(1 - q));
    };
    const h = 1e-5;
    const exact = -(elboExact(0.4 + h) - elboExact(0.4 - h)) / (2 * h);
    const sds: number[] = [];
    for (const baseline of [false, { useDecayingAvgBaseline: true }]) {
      setSeed(9);
      const elbo = new ppl.TraceGraphELBO();
      const guide = guideWith(baseline);
      for (let i = 0; i < 60; i++) tf.tidy(() => void elbo.differentiableLoss(model, guide, [x]));
      const g = Array.from(
        { length: 200 },
        () => lossGrads(() => elbo.differentiableLoss(model, guide, [x]), ['t'])[0] as number,
      );
      const { mean, se, sd } = meanSd(g);
      expect(Math.abs(mean - exact), `baseline ${JSON.stringify(baseline)}`).toBeLessThan(4 * se);
      sds.push(sd);
    }
    // the cost's mean is far from 0 next to its spread over z: the average removes most of it
    expect(sds[1] as number).toBeLessThan((sds[0] as number) / 3);
    x.dispose();
  });

  it('bad options are refused naming them; a changed cost shape is refused naming the site', () => {
    expect(() => new ppl.TraceGraphELBO({ defaultBaseline: 'mean' as never })).toThrow(
      ArgumentError,
    );
    expect(() => new ppl.TraceGraphELBO({ defaultBaseline: 'mean' as never })).toThrow(
      /defaultBaseline.*'none' or 'decayingAverage'/,
    );
    // a plate whose size changes between steps: the average has the first step's shape
    const model = (n: number): void => {
      ppl.plate('data', n, () => ppl.sample('z', new D.Bernoulli(tf.fill([n], 0.4))));
    };
    const guide = (n: number): void => {
      ppl.plate('data', n, () =>
        ppl.sample('z', new D.Bernoulli(tf.fill([n], 0.5)), {
          infer: { baseline: { useDecayingAvgBaseline: true } },
        }),
      );
    };
    const elbo = new ppl.TraceGraphELBO();
    tf.tidy(() => void elbo.differentiableLoss(model, guide, [3]));
    const before = tf.memory().numTensors;
    expect(() => elbo.differentiableLoss(model, guide, [4])).toThrow(ArgumentError);
    expect(() => elbo.differentiableLoss(model, guide, [4])).toThrow(
      /site 'z'.*shape \[3\].*\[4\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(elbo.baselines.get('z')?.shape).toEqual([3]);
  });
});
