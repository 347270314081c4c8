import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import * as D from '../../../src/distributions/index.js';
import { gt } from '../../../src/distributions/special.js';
import { deterministic } from '../../../src/ppl/deterministic.js';
import { factor } from '../../../src/ppl/factor.js';
import { plate } from '../../../src/ppl/handlers/plate.js';
import {
  ChainRng,
  MCMC,
  ModelPotential,
  NUTS,
  TapeReplay,
  compilePotential,
  initialPoint,
  recordTape,
} from '../../../src/ppl/mcmc/index.js';
import { sample } from '../../../src/ppl/runtime.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import { expectNoLeak, finiteDiff } from '../../helpers.js';

const Y = [28, 8, -3, 7, -1, 1, 18, 12];
const SIGMA = [15, 10, 16, 11, 9, 11, 10, 18];

/** Models covering the families and bijectors used in models (data made inside, constants). */
const MODELS: Record<string, () => void> = {
  eightSchools: () => {
    const mu = sample('mu', new D.Normal(0, 5));
    const tau = sample('tau', new D.HalfCauchy(5));
    plate('J', 8, () => {
      const t = sample('theta_tilde', new D.Normal(0, 1));
      const theta = deterministic('theta', tf.add(mu, tf.mul(tau, t)));
      sample('obs', new D.Normal(theta, tf.tensor1d(SIGMA)), { obs: tf.tensor1d(Y) });
    });
  },
  positive: () => {
    const a = sample('a', new D.Gamma(2, 3));
    const c = sample('c', new D.LogNormal(0, 1));
    const e = sample('e', new D.Exponential(2));
    const ig = sample('ig', new D.InverseGamma(3, 2));
    const w = sample('w', new D.Weibull(1.5, 2));
    sample('x', new D.Normal(a, tf.add(c, tf.add(e, ig))), { obs: tf.tensor1d([1, 2]) });
    sample('n', new D.Poisson(w), { obs: tf.tensor1d([1, 3]) });
  },
  unitAndReal: () => {
    const b = sample('b', new D.Beta(2, 3));
    const u = sample('u', new D.Uniform(-1, 3));
    const d = sample('d', new D.StudentT(3, 0, 1));
    const l = sample('l', new D.Laplace(0, 1));
    const c = sample('c', new D.Cauchy(0, 2));
    const g = sample('g', new D.Gumbel(0, 1));
    const lg = sample('lg', new D.Logistic(0, 1));
    const h = sample('h', new D.HalfNormal(1));
    sample('y', new D.Bernoulli(b), { obs: tf.tensor1d([1, 0, 1]) });
    sample('k', new D.Binomial(10, { logits: c }), { obs: tf.scalar(3) });
    sample('o', new D.StudentT(4, tf.add(u, tf.add(d, tf.add(l, tf.add(g, lg)))), h), {
      obs: tf.tensor1d([0.5, 1]),
    });
    factor('pull', tf.mul(-0.5, tf.square(tf.sub(u, 1))));
  },
  simplex: () => {
    const p = sample('p', new D.Dirichlet(tf.tensor1d([1.5, 2, 3])));
    sample('c', new D.Categorical({ probs: p }), { obs: tf.tensor1d([0, 2, 2], 'int32') });
  },
  mvnAndLkj: () => {
    const L = sample('L', new D.LKJCholesky(3, 2));
    const m = sample('m', new D.MultivariateNormal(tf.zeros([3]), { scaleTril: tf.eye(3) }));
    sample('y', new D.MultivariateNormal(m, { scaleTril: L }), {
      obs: tf.tensor2d([
        [1, 2, 0],
        [0, 1, -1],
      ]),
    });
  },
  regression: () => {
    const X = tf.tensor2d([
      [1, 0.5],
      [1, -1],
      [1, 2],
      [1, 0.1],
    ]);
    const beta = sample('beta', new D.Normal(tf.zeros([2]), 10).toEvent(1));
    const s = sample('s', new D.HalfNormal(1));
    const mean = tf.squeeze(tf.matMul(X, tf.reshape(beta, [2, 1])), [1]);
    sample('y', new D.Normal(mean, s).toEvent(1), { obs: tf.tensor1d([1, -0.5, 3, 0.9]) });
  },
  ordinalLkjWishart: () => {
    const b = sample('b', new D.Normal(0, 5));
    const c = sample('c', new D.ImproperUniform(D.constraints.ordered, [], [3]));
    const eta = tf.mul(b, tf.tensor1d([0.1, -1, 2, 0.5]));
    plate('d', 4, () =>
      sample('y', new D.OrderedLogistic(eta, c), { obs: tf.tensor1d([0, 3, 2, 1]) }),
    );
    const C = sample('C', new D.LKJ(3, 2));
    sample('v', new D.MultivariateNormal(tf.zeros([3]), { covarianceMatrix: C }), {
      obs: tf.tensor2d([
        [1, 0.5, 0],
        [0, 1, -1],
      ]),
    });
    const P = sample('P', new D.Wishart(4, { covarianceMatrix: tf.eye(2) }));
    const S = sample('S', new D.InverseWishart(4, tf.eye(2)));
    sample('w', new D.MultivariateNormal(tf.zeros([2]), { precisionMatrix: P }), {
      obs: tf.tensor1d([1, 0.5]),
    });
    sample('u', new D.MultivariateNormal(tf.zeros([2]), { covarianceMatrix: S }), {
      obs: tf.tensor1d([0, 1]),
    });
  },
};

function setupModel(model: () => void): { mp: ModelPotential<unknown[]>; z: Float64Array } {
  const { sites, z } = initialPoint(model, [], 'uniform', new ChainRng(3));
  return { mp: new ModelPotential(model, [], sites), z };
}

describe('compiled potential (record once, replay in float64)', () => {
  it('replays value and gradient of every family/bijector as tfjs computes them; gradient = finite differences', () => {
    for (const [name, model] of Object.entries(MODELS)) {
      const { mp, z } = setupModel(model);
      const before = tf.memory().numTensors;
      const r = compilePotential(mp, z);
      expect(tf.memory().numTensors).toBe(before);
      if (!('potential' in r)) throw new Error(`${name}: ${r.reason}`);
      const cp = r.potential;
      const rng = new ChainRng(11);
      for (let k = 0; k < 3; k++) {
        const q = z.map(() => 3 * rng.uniform() - 1.5);
        const ref = mp.evaluate(q);
        const got = cp.valueAndGrad(q);
        expect(got.value, name).toBeCloseTo(ref.value, 2);
        expect(Math.abs(got.value - ref.value), name).toBeLessThan(
          1e-4 * (1 + Math.abs(ref.value)),
        );
        expect(Array.from(got.grad), name).toBeAllclose(Array.from(ref.grad), {
          rtol: 1e-3,
          atol: 1e-3,
        });
        // the reverse pass against central differences of the float64 replay itself
        const U = (x: number[]): number => cp.valueAndGrad(Float64Array.from(x)).value;
        expect(Array.from(got.grad), name).toBeAllclose(finiteDiff(U, Array.from(q), 1e-6), {
          rtol: 1e-5,
          atol: 1e-5,
        });
      }
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('records element maps, reductions, matmul, softmax, cumsum, pow, select and customGrad scopes like tfjs (value and tf.grads)', () => {
    const f = (x: tf.Tensor, w: tf.Tensor): tf.Scalar => {
      const xt = tf.transpose(x); // [3, 2]
      const parts = tf.concat(
        [tf.slice(xt, [0, 0], [2, 2]), tf.tile(tf.reshape(w, [3, 1]), [1, 2])],
        0,
      );
      const g = tf.gather(parts, tf.tensor1d([4, 0, 2], 'int32'));
      const p = tf.pad(g, [
        [0, 1],
        [1, 0],
      ]);
      const m = tf.matMul(tf.reshape(w, [1, 3]), tf.softmax(tf.reshape(x, [3, 2]), -1));
      const c = tf.cumsum(tf.stack([tf.sum(p), tf.max(x), tf.mean(m)]), 0, false, true);
      const s = tf.where(gt(x, 0), tf.pow(tf.abs(x), 1.5), tf.exp(x));
      const v = tf.sub(tf.maximum(w, tf.tensor1d([0.2, 0, -1])), tf.squaredDifference(w, 1));
      return tf.add(
        tf.add(tf.sum(tf.mul(c, tf.tensor1d([1, -2, 0.5]))), tf.sum(s)),
        tf.prod(v),
      ) as tf.Scalar;
    };
    const xv = [0.3, -1.2, 0.8, 1.5, -0.4, 2.1];
    const wv = [0.7, -0.3, 1.1];
    expectNoLeak(() => {
      const x = tf.tensor2d(xv, [2, 3]);
      const w = tf.tensor1d(wv);
      const prog = recordTape((a, b) => f(a as tf.Tensor, b as tf.Tensor), [x, w]);
      const ref = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => f(a, b))([x, w]);
      const replay = new TapeReplay(prog);
      const grad = new Float64Array(9);
      const value = replay.valueAndGrad(Float64Array.from([...xv, ...wv]), grad);
      expect(value).toBeCloseTo(ref.value.dataSync()[0] as number, 4);
      const refGrad = [...ref.grads[0]!.dataSync(), ...ref.grads[1]!.dataSync()];
      expect(Array.from(grad)).toBeAllclose(refGrad, { rtol: 1e-4, atol: 1e-4 });
      tf.dispose([x, w, ref.value, ...ref.grads]);
    });
  });

  it('falls back to tfjs (auto) or throws (true) when the structure depends on latent values or a kernel is unknown', async () => {
    // a host read of a latent steering the density: the replay sees a constant
    const hostRead = (): void => {
      const a = sample('a', new D.Normal(0, 1));
      const v = a.dataSync()[0] as number;
      factor('f', tf.scalar(-0.5 * v * v));
    };
    const unknown = (): void => {
      const a = sample('a', new D.Normal(tf.zeros([3]), 1).toEvent(1));
      factor(
        'f',
        tf.neg(tf.sum(tf.unsortedSegmentSum(tf.exp(a), tf.tensor1d([0, 1, 0], 'int32'), 2))),
      );
    };
    for (const [model, why] of [
      [hostRead, /does not match tfjs/],
      [unknown, /UnsortedSegmentSum/],
    ] as const) {
      const { mp, z } = setupModel(model);
      const r = compilePotential(mp, z);
      expect('reason' in r && r.reason).toMatch(why);
      const auto = new MCMC(new NUTS(model), {
        numSamples: 5,
        warmupSteps: 5,
        seed: 1,
        progressBar: false,
      });
      await auto.run();
      expect(auto.getExtraFields()[0]?.compiled).toBe(false);
      expect(auto.getExtraFields()[0]?.compileReason).toMatch(why);
      const strict = new MCMC(new NUTS(model, { compile: true }), {
        numSamples: 5,
        warmupSteps: 5,
        progressBar: false,
      });
      await expect(strict.run()).rejects.toThrow(ArgumentError);
      await expect(strict.run()).rejects.toThrow(/compile/);
    }
    expect(() => new NUTS(hostRead, { compile: 'yes' as unknown as boolean })).toThrow(/compile/);
  });

  it('compiled NUTS: seeded runs repeat exactly, no tensor leaks, posterior as with tfjs', async () => {
    const run = async (compile: boolean, seed: number): Promise<MCMC> => {
      const m = new MCMC(new NUTS(MODELS.eightSchools as () => void, { compile }), {
        numSamples: 300,
        warmupSteps: 300,
        seed,
        progressBar: false,
      });
      await m.run();
      return m;
    };
    const before = tf.memory().numTensors;
    const a = await run(true, 5);
    const b = await run(true, 5);
    expect(tf.memory().numTensors).toBe(before);
    expect(a.getExtraFields()[0]?.compiled).toBe(true);
    const sa = a.getSamples();
    const sb = b.getSamples();
    expect(Array.from(sa.theta!.dataSync())).toEqual(Array.from(sb.theta!.dataSync()));
    // mu's posterior mean (reference 4.41, sd 3.31): within 4 Monte Carlo standard errors
    const mu = a.summary().mu!.elements[0]!;
    expect(Math.abs(mu.mean - 4.41)).toBeLessThan((4 * 3.31) / Math.sqrt(mu.essBulk));
    tf.dispose([...Object.values(sa), ...Object.values(sb)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
