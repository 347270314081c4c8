/**
 * Audit 18: the score-function term of a guide site drawn without `rsample` counted its scale
 * twice (`log q` scaled and the cost scaled: `s^2`), so under `poutine.scale` or in a subsampled
 * plate (`size / subsampleSize`) the gradient of every ELBO with score-function terms (TraceELBO,
 * TraceMeanFieldELBO, TraceEnumELBO, TraceGraphELBO) was biased. Pyro leaves `score_function`
 * unscaled. Reference: the surrogate's gradient at every guide draw (fixed by `substitute`)
 * averaged under q, against the exact gradient by enumeration in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
afterEach(() => ppl.clearParamStore());

const makers: [string, () => ppl.ELBOLoss][] = [
  ['TraceELBO', () => new ppl.TraceELBO()],
  ['TraceMeanFieldELBO', () => new ppl.TraceMeanFieldELBO()],
  ['TraceEnumELBO', () => new ppl.TraceEnumELBO({ maxPlateNesting: 1 })],
  ['TraceGraphELBO', () => new ppl.TraceGraphELBO()],
];
const lnorm = (x: number, m: number): number => -0.5 * Math.log(2 * Math.PI) - 0.5 * (x - m) ** 2;

describe('score-function terms under scales', () => {
  it('score function under poutine.scale 2: expected gradient = 2 x exact', () => {
    for (const [name, make] of makers) {
      const model = (): void => {
        const z = ppl.sample('z', new D.Bernoulli(0.3));
        ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 2), 1), 1), { obs: tf.scalar(0.4) });
      };
      let fixed = 0;
      const guide = (): void => {
        const t = ppl.param('t', tf.scalar(0.35));
        ppl.sample('z', new D.Bernoulli({ logits: t }));
      };
      const g2 = ppl.scale(
        ppl.substitute(guide, (m) => (m.name === 'z' ? tf.scalar(fixed) : undefined)),
        2,
      );
      const m2 = ppl.scale(model, 2);
      const elbo = make();
      tf.dispose(elbo.differentiableLoss(m2, g2, []));
      const v = ppl.getParamStore().variables(['t']);
      let mean = 0;
      const q = sigmoid(0.35);
      for (const z of [0, 1]) {
        fixed = z;
        const { value, grads } = tf.variableGrads(() => elbo.differentiableLoss(m2, g2, []), v);
        mean += (z ? q : 1 - q) * -(grads[v[0]!.name]!.dataSync()[0] as number);
        value.dispose();
        tf.dispose(grads);
      }
      // exact d ELBO/dt (unscaled) by enumeration
      const lj = (z: number): number =>
        Math.log(z ? 0.3 : 0.7) - 0.5 * Math.log(2 * Math.PI) - 0.5 * (0.4 - (2 * z - 1)) ** 2;
      const lq = (z: number): number => Math.log(z ? q : 1 - q);
      let g = 0;
      for (const z of [0, 1]) g += (z ? q : 1 - q) * (z - q) * (lj(z) - lq(z));
      expect(name.length).toBeGreaterThan(0);
      ppl.clearParamStore();
      expect(mean).toBeCloseTo(2 * g, 4);
    }
  });

  it('a subsampled plate: the expected gradient is N/n times the batch members` exact gradients', () => {
    const X = [0.4, -0.3, 1.2, 0.8];
    const idx = [1, 3];
    for (const [, make] of makers) {
      const model = (): void => {
        ppl.plate('d', 4, { subsample: idx }, () => {
          const z = ppl.sample('z', new D.Bernoulli(0.3));
          ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 2), 1), 1), {
            obs: tf.tensor1d(idx.map((i) => X[i] as number)),
          });
        });
      };
      let fixed = [0, 0];
      const guide = (): void => {
        const t = ppl.param('t', tf.scalar(0.35));
        ppl.plate('d', 4, { subsample: idx }, () =>
          ppl.sample('z', new D.Bernoulli({ logits: t })),
        );
      };
      const fg = ppl.substitute(guide, (m) => (m.name === 'z' ? tf.tensor1d(fixed) : undefined));
      const elbo = make();
      tf.dispose(elbo.differentiableLoss(model, fg, []));
      const v = ppl.getParamStore().variables(['t']);
      const q = sigmoid(0.35);
      let mean = 0;
      for (const z of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]) {
        fixed = z;
        const { value, grads } = tf.variableGrads(() => elbo.differentiableLoss(model, fg, []), v);
        const w = z.reduce((p, zi) => p * (zi ? q : 1 - q), 1);
        mean += w * -((grads[(v[0] as tf.Variable).name] as tf.Tensor).dataSync()[0] as number);
        value.dispose();
        tf.dispose(grads);
      }
      let g = 0;
      for (const i of idx) {
        for (const z of [0, 1]) {
          const lj = Math.log(z ? 0.3 : 0.7) + lnorm(X[i] as number, 2 * z - 1);
          g += (z ? q : 1 - q) * (z - q) * (lj - Math.log(z ? q : 1 - q));
        }
      }
      expect(mean).toBeCloseTo((4 / 2) * g, 4);
      ppl.clearParamStore();
    }
  });
});
