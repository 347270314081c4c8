/**
 * Audit 17: a learned baseline of `TraceGraphELBO` (`baselineValue`, `nnBaseline`) must have the
 * shape of the site's downstream cost, as Pyro's `_construct_baseline` ("Expected baseline at
 * site ... to be ... instead got ..."): the whole baseline (the decaying average, when on, plus
 * the learned part) is compared, so beside the average a single value broadcasts. References:
 * each draw's gradients in closed form (float64).
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

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const xs = [0.4, -1.1, 2.0];
const N = xs.length;

/** z ~ Bernoulli(0.3) (global, or one per datum in a plate), x ~ N(2z - 1, 1). */
const model =
  (local: boolean) =>
  (x: tf.Tensor): void => {
    if (!local) {
      const z = ppl.sample('z', new D.Bernoulli(0.3));
      ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 2), 1), 1), { obs: x });
      return;
    }
    ppl.plate('data', N, () => {
      const z = ppl.sample('z', new D.Bernoulli(tf.fill([N], 0.3)));
      ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 2), 1), 1), { obs: x });
    });
  };
let drawn: number[] = [];
const guide = (local: boolean, baseline: () => Record<string, unknown>) => (): void => {
  const t = ppl.param('t', local ? tf.tensor1d([0.2, -0.3, 0.5]) : tf.scalar(0.2));
  const site = (): tf.Tensor =>
    ppl.sample('z', new D.Bernoulli({ logits: t }), { infer: { baseline: baseline() } });
  const z = local ? ppl.plate('data', N, site) : site();
  drawn = Array.from(z.dataSync());
};

describe(
  "TraceGraphELBO's learned baseline has the cost's shape (Pyro)",
  { timeout: 60_000 },
  () => {
    it.each([
      [
        'global site, baselineValue [1]',
        false,
        () => ({ baselineValue: tf.tensor1d([0.1]) }),
        /\[\]/,
      ],
      [
        'global site, baselineValue [1, 1]',
        false,
        () => ({ baselineValue: tf.zeros([1, 1]) }),
        /\[\]/,
      ],
      [
        'plate site, baselineValue [] (one value)',
        true,
        () => ({ baselineValue: tf.scalar(0.1) }),
        /\[3\]/,
      ],
      ['plate site, baselineValue [2]', true, () => ({ baselineValue: tf.zeros([2]) }), /\[3\]/],
      [
        'plate site, baselineValue [3, 1]',
        true,
        () => ({ baselineValue: tf.zeros([3, 1]) }),
        /\[3\]/,
      ],
      [
        'plate site, nnBaseline output [1]',
        true,
        () => ({ nnBaseline: (u: tf.Tensor) => tf.sum(u, 0, true), nnBaselineInput: tf.ones([4]) }),
        /nnBaseline output of shape \[1\]/,
      ],
      [
        'plate site beside the average, baselineValue [2]',
        true,
        () => ({ useDecayingAvgBaseline: true, baselineValue: tf.zeros([2]) }),
        /\[3\]/,
      ],
    ] as const)('%s is refused naming the site and the expected shape', (_, local, b, re) => {
      const x = local ? tf.tensor1d(xs) : tf.scalar(xs[0] as number);
      const g = guide(local, b);
      tf.tidy(() => void ppl.param('t', local ? tf.zeros([N]) : tf.scalar(0)));
      const elbo = new ppl.TraceGraphELBO();
      const before = tf.memory().numTensors;
      let err: unknown;
      try {
        elbo.loss(model(local), g, x);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as Error).message).toMatch(/infer\.baseline of site 'z'/);
      expect((err as Error).message).toMatch(re);
      expect(tf.memory().numTensors).toBe(before);
      expect(elbo.baselines.size).toBe(0);
      x.dispose();
    });

    it("a baseline of the cost's shape is used as it is: each draw's gradients by hand", () => {
      // plate site, baselineValue = the param v of shape [3]: d(-ELBO)/dt_i = -(z_i - q_i)(cost_i - v_i),
      // d/dv_i of the baseline loss sum (cost - v)^2 = -2 (cost_i - v_i)
      const v0 = [0.5, -0.2, 0.1];
      const x = tf.tensor1d(xs);
      const g = guide(true, () => ({ baselineValue: ppl.param('v', tf.tensor1d(v0)) }));
      tf.tidy(() => g());
      setSeed(2);
      const elbo = new ppl.TraceGraphELBO();
      const t0 = [0.2, -0.3, 0.5];
      for (let r = 0; r < 4; r++) {
        const vars = ppl.getParamStore().variables(['t', 'v']);
        const { value, grads } = tf.variableGrads(
          () => elbo.differentiableLoss(model(true), g, [x]),
          vars,
        );
        const gt = Array.from((grads[vars[0]?.name as string] as tf.Tensor).dataSync());
        const gv = Array.from((grads[vars[1]?.name as string] as tf.Tensor).dataSync());
        value.dispose();
        tf.dispose(grads);
        drawn.forEach((z, i) => {
          const q = sigmoid(t0[i] as number);
          const cost =
            Math.log(z === 1 ? 0.3 : 0.7) +
            Math.log(normalRef.pdf(xs[i] as number, 2 * z - 1, 1)) -
            Math.log(z === 1 ? q : 1 - q);
          const c = cost - (v0[i] as number);
          expect(gt[i]).toBeCloseTo(-(z - q) * c, 4);
          expect(gv[i]).toBeCloseTo(-2 * c, 4);
        });
      }
      x.dispose();
    });

    it('beside the decaying average a single value broadcasts (Pyro adds it to the average)', () => {
      // global site: cost [] and baseline [] are fine; plate site: average [3] + value [] is [3]
      const x = tf.tensor1d(xs);
      const g = guide(true, () => ({
        useDecayingAvgBaseline: true,
        baselineValue: tf.scalar(0.1),
      }));
      tf.tidy(() => g());
      setSeed(3);
      const elbo = new ppl.TraceGraphELBO();
      expect(Number.isFinite(elbo.loss(model(true), g, x))).toBe(true);
      tf.tidy(() => void elbo.differentiableLoss(model(true), g, [x]));
      expect(elbo.baselines.get('z')?.shape).toEqual([3]);
      const xg = tf.scalar(0.4);
      ppl.clearParamStore();
      const gg = guide(false, () => ({ baselineValue: tf.scalar(0.1) }));
      expect(Number.isFinite(new ppl.TraceGraphELBO().loss(model(false), gg, xg))).toBe(true);
      tf.dispose([x, xg]);
    });
  },
);
