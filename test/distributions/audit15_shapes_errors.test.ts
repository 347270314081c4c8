/**
 * Audit of issue 2 (session 15): shapes and errors as a torch.distributions user meets them —
 * `sample(shape)` is `sample + batch + event` for every kind of family, `expand` / `Independent` /
 * `toEvent` reinterpretation, reparameterized gradients against known pathwise derivatives, and
 * bad parameters or values as `ArgumentError`s naming the argument with no tensor left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions } from '../../src/index.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

const d = distributions;
type Dist = distributions.Distribution;

describe('sample(shape) is sample + batch + event, with moments within 5 standard errors', () => {
  const cases: Array<{
    name: string;
    make: () => Dist;
    batch: number[];
    event: number[];
    mean?: number[];
    sd?: number[];
  }> = [
    {
      name: 'Normal [3, 1] x [4]',
      make: () => new d.Normal(tf.tensor2d([[0], [1], [2]]), [1, 2, 3, 4]),
      batch: [3, 4],
      event: [],
    },
    {
      name: 'Gamma(0.05 .. 150)',
      make: () => new d.Gamma([0.05, 1, 150], 2),
      batch: [3],
      event: [],
      mean: [0.025, 0.5, 75],
      sd: [Math.sqrt(0.05) / 2, 0.5, Math.sqrt(150) / 2],
    },
    {
      name: 'Beta(0.3, 120)',
      make: () => new d.Beta([0.3, 120], [120, 0.3]),
      batch: [2],
      event: [],
      mean: [0.3 / 120.3, 120 / 120.3],
    },
    {
      name: 'Poisson(1e-3, 400)',
      make: () => new d.Poisson([1e-3, 400]),
      batch: [2],
      event: [],
      mean: [1e-3, 400],
      sd: [Math.sqrt(1e-3), 20],
    },
    {
      name: 'Bernoulli logits ±30',
      make: () => new d.Bernoulli({ logits: [30, -30, 0] }),
      batch: [3],
      event: [],
      mean: [1, 0, 0.5],
    },
    {
      name: 'Categorical batch [2], K = 5',
      make: () => new d.Categorical({ logits: tf.zeros([2, 5]) }),
      batch: [2],
      event: [],
      mean: [2, 2],
    },
    {
      name: 'Dirichlet(50) batch [2]',
      make: () => new d.Dirichlet(tf.fill([2, 50], 0.5)),
      batch: [2],
      event: [50],
    },
    {
      name: 'MultivariateNormal batch [2], D = 3',
      make: () =>
        new d.MultivariateNormal(tf.zeros([2, 3]), {
          covarianceMatrix: [
            [2, 0.5, 0],
            [0.5, 1, 0],
            [0, 0, 3],
          ],
        }),
      batch: [2],
      event: [3],
    },
    {
      name: 'Wishart(5, I_3) batch [2]',
      make: () => new d.Wishart([5, 7], { covarianceMatrix: tf.eye(3) }),
      batch: [2],
      event: [3, 3],
    },
    {
      name: 'LKJCholesky(4) batch [2]',
      make: () => new d.LKJCholesky(4, [0.5, 200]),
      batch: [2],
      event: [4, 4],
    },
    {
      name: 'Independent(Normal [4, 3, 5], 2)',
      make: () => new d.Independent(new d.Normal(tf.zeros([4, 3, 5]), 1), 2),
      batch: [4],
      event: [3, 5],
    },
    {
      name: 'Normal.expand([2, 3])',
      make: () => new d.Normal([0, 1, 2], 1).expand([2, 3]),
      batch: [2, 3],
      event: [],
    },
    {
      name: 'MultivariateNormalDiag [3, 1, 5] x [4, 5]',
      make: () => new d.MultivariateNormalDiag(tf.zeros([3, 1, 5]), tf.ones([4, 5])),
      batch: [3, 4],
      event: [5],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const dist = c.make();
      expect(dist.batchShape).toEqual(c.batch);
      expect(dist.eventShape).toEqual(c.event);
      let shape: number[] = [];
      expectNoLeak(() => {
        const s = dist.sample([2, 3], 5);
        shape = s.shape;
        return s;
      });
      expect(shape).toEqual([2, 3, ...c.batch, ...c.event]);
      // the log-density of draws has the sample + batch shape and is finite
      const lp = expectNoLeak(() => tf.tidy(() => dist.logProb(dist.sample([7], 6))));
      expect(lp.length).toBe(7 * c.batch.reduce((a, b) => a * b, 1));
      expect(lp.every(Number.isFinite)).toBe(true);
      if (c.mean !== undefined) {
        const n = 20_000;
        const m = expectNoLeak(() => tf.tidy(() => tf.mean(dist.sample([n], 11), 0)));
        const mean = c.mean;
        const sd =
          c.sd ??
          expectNoLeak(() => tf.tidy(() => tf.sqrt(tf.moments(dist.sample([n], 12), 0).variance)));
        m.forEach((v, i) => {
          const se = (sd[i] as number) / Math.sqrt(n);
          expect(Math.abs(v - (mean[i] as number))).toBeLessThanOrEqual(5 * se + 1e-6);
        });
      }
      dist.dispose();
    });
  }
});

describe('reparameterized gradients against known pathwise derivatives', () => {
  /** d/dtheta of the mean of `n` reparameterized draws, for each parameter value. */
  function gradOfMean(
    make: (p: tf.Tensor) => Dist,
    p0: number[],
    n: number,
    seed: number,
  ): number[] {
    const p = tf.tensor1d(p0);
    const before = tf.memory().numTensors;
    const g = tf.grad((x: tf.Tensor) => {
      const dist = make(x);
      const out = tf.sum(tf.mean(dist.rsample([n], seed), 0));
      dist.dispose();
      return out;
    })(p);
    const v = Array.from(g.dataSync());
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
    return v;
  }
  it('Gamma(a, 2): d E[X]/da = 1/2 at a = 0.05 .. 150 (implicit reparameterization)', () => {
    const g = gradOfMean((x) => new d.Gamma(x, 2), [0.05, 0.5, 5, 150], 40_000, 3);
    expect(g).toBeAllclose([0.5, 0.5, 0.5, 0.5], { rtol: 3e-2 });
  });
  it('Beta(a, 2): d E[X]/da = 2/(a + 2)^2', () => {
    const as = [0.3, 5, 150];
    const g = gradOfMean((x) => new d.Beta(x, 2), as, 40_000, 4);
    expect(g).toBeAllclose(
      as.map((a) => 2 / (a + 2) ** 2),
      { rtol: 5e-2 },
    );
  });
  it('LogNormal(mu, 0.5): d E[X]/dmu = exp(mu + 1/8) (draw by draw, exact up to MC)', () => {
    const mus = [-2, 0, 1];
    const g = gradOfMean((x) => new d.LogNormal(x, 0.5), mus, 40_000, 5);
    expect(g).toBeAllclose(
      mus.map((m) => Math.exp(m + 0.125)),
      { rtol: 2e-2 },
    );
  });
  it('Dirichlet([a, 2, 3]): d E[X_0]/da = 5/(a + 5)^2', () => {
    const as = [0.5, 4];
    const out: number[] = [];
    for (const a of as) {
      const p = tf.scalar(a);
      const g = tf.grad((x: tf.Tensor) => {
        const conc = tf.stack([x, tf.scalar(2), tf.scalar(3)]);
        const dist = new d.Dirichlet(conc);
        const s = tf.mean(tf.slice(dist.rsample([40_000], 6), [0, 0], [-1, 1]));
        dist.dispose();
        return s;
      })(p);
      out.push(g.dataSync()[0] as number);
      tf.dispose([p, g]);
    }
    expect(out).toBeAllclose(
      as.map((a) => 5 / (a + 5) ** 2),
      { rtol: 5e-2 },
    );
  });
});

/** Call `f` on a fresh distribution and free it whatever happens (the call is what is tested). */
function withDist<D extends Dist>(make: () => D, f: (x: D) => unknown): unknown {
  const x = make();
  try {
    return f(x);
  } finally {
    x.dispose();
  }
}
const EYE3 = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

describe('bad parameters and values: ArgumentError naming the argument, before any work', () => {
  const rows = [
    { call: 'Normal scale -1', run: () => new d.Normal(0, -1), arg: 'scale' },
    { call: 'Normal scale 0', run: () => new d.Normal(0, 0), arg: 'scale' },
    { call: 'Normal loc NaN', run: () => new d.Normal(NaN, 1), arg: 'loc' },
    {
      call: 'Normal shapes [3] vs [2]',
      run: () => new d.Normal([0, 0, 0], [1, 1]),
      arg: /loc|scale/,
    },
    { call: 'Bernoulli probs 1.5', run: () => new d.Bernoulli({ probs: 1.5 }), arg: 'probs' },
    { call: 'Bernoulli logits NaN', run: () => new d.Bernoulli({ logits: NaN }), arg: 'logits' },
    {
      call: 'Categorical probs negative',
      run: () => new d.Categorical({ probs: [-1, 2] }),
      arg: 'probs',
    },
    { call: 'Gamma concentration -1', run: () => new d.Gamma(-1, 1), arg: 'concentration' },
    { call: 'Gamma rate 0', run: () => new d.Gamma(1, 0), arg: 'rate' },
    {
      call: 'Beta shapes [3] vs [2]',
      run: () => new d.Beta([1, 2, 3], [1, 2]),
      arg: /concentration/,
    },
    {
      call: 'Dirichlet a zero concentration',
      run: () => new d.Dirichlet([1, 0, 3]),
      arg: 'concentration',
    },
    { call: 'Dirichlet a scalar', run: () => new d.Dirichlet(2), arg: 'concentration' },
    { call: 'Uniform low > high', run: () => new d.Uniform(2, 1), arg: /low|high/ },
    { call: 'StudentT df 0', run: () => new d.StudentT(0), arg: 'df' },
    { call: 'Poisson rate -1', run: () => new d.Poisson(-1), arg: 'rate' },
    {
      call: 'Binomial totalCount 2.5',
      run: () => new d.Binomial(2.5, { probs: 0.3 }),
      arg: 'totalCount',
    },
    {
      call: 'MultivariateNormal non-PD covariance',
      run: () =>
        new d.MultivariateNormal([0, 0], {
          covarianceMatrix: [
            [1, 2],
            [2, 1],
          ],
        }),
      arg: 'covarianceMatrix',
    },
    {
      call: 'MultivariateNormal covariance of the wrong size',
      run: () =>
        new d.MultivariateNormal([0, 0, 0], {
          covarianceMatrix: [
            [1, 0],
            [0, 1],
          ],
        }),
      arg: 'covarianceMatrix',
    },
    {
      call: 'MultivariateNormal scaleTril with a negative diagonal',
      run: () =>
        new d.MultivariateNormal([0, 0], {
          scaleTril: [
            [-1, 0],
            [0.2, 1],
          ],
        }),
      arg: 'scaleTril',
    },
    {
      call: 'Wishart df below dim - 1',
      run: () => new d.Wishart(1, { covarianceMatrix: EYE3 }),
      arg: 'df',
    },
    { call: 'LKJ dim 1', run: () => new d.LKJ(1, 1), arg: 'dim' },
    { call: 'LKJ concentration 0', run: () => new d.LKJ(3, 0), arg: 'concentration' },
    {
      call: 'LowRank covDiag 0',
      run: () => new d.LowRankMultivariateNormal([0, 0], [[1], [1]], [0, 1]),
      arg: 'covDiag',
    },
    {
      call: 'Independent reinterpreting too many dims',
      run: () =>
        withDist(
          () => new d.Normal([[0, 0, 0]], 1),
          (n) => new d.Independent(n, 3),
        ),
      arg: 'reinterpretedBatchNdims',
    },
    {
      call: 'expand to an incompatible shape',
      run: () =>
        withDist(
          () => new d.Normal([0, 1, 2], 1),
          (n) => n.expand([4, 2]),
        ),
      arg: 'batchShape',
    },
    {
      call: 'sample shape [-1]',
      run: () =>
        withDist(
          () => new d.Normal(0, 1),
          (n) => n.sample([-1]),
        ),
      arg: 'shape',
    },
    {
      call: 'sample shape [2.5]',
      run: () =>
        withDist(
          () => new d.Normal(0, 1),
          (n) => n.sample([2.5]),
        ),
      arg: 'shape',
    },
    {
      call: 'Normal value of shape [2] against batch [3]',
      run: () =>
        withDist(
          () => new d.Normal([0, 0, 0], 1),
          (n) => n.logProb([1, 2]),
        ),
      arg: 'value',
    },
    {
      call: 'Dirichlet value off the simplex',
      run: () =>
        withDist(
          () => new d.Dirichlet([1, 2, 3]),
          (n) => n.logProb([0.5, 0.6, 0.1]),
        ),
      arg: 'value',
    },
    {
      call: 'MultivariateNormalDiag value of the wrong event size',
      run: () =>
        withDist(
          () => new d.MultivariateNormalDiag([0, 0, 0], [1, 1, 1]),
          (n) => n.logProb([1, 2]),
        ),
      arg: 'value',
    },
    {
      call: 'icdf of a probability 1.5',
      run: () =>
        withDist(
          () => new d.Normal(0, 1),
          (n) => n.icdf([1.5]),
        ),
      arg: /value|p/,
    },
    {
      call: 'monteCarloKL numSamples 0',
      run: () =>
        withDist(
          () => new d.Normal(0, 1),
          (n) => d.monteCarloKL(n, n, { numSamples: 0 }),
        ),
      arg: 'numSamples',
    },
  ];
  for (const r of rows) it(r.call, () => expectBadInput(r));
});
