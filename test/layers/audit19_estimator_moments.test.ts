/**
 * Audit 19: for every Bayesian convolution kind and estimator, on the geometries a TF.js user
 * writes (channels-first, strides, dilation, causal, groups, transposed), the output over many
 * passes has the moments of the reparameterized layer: per output element
 *
 * $$E[y] = \mathrm{op}(x, \mu) + \mu_b,\qquad
 *   \mathrm{Var}[y] = \mathrm{op}(x^2, \sigma^2) + \sigma_b^2,$$
 *
 * the references computed in mean mode (no estimator code: the layer's op with the means, then
 * with `sigma^2` on `x^2`). Each output is Gaussian for every estimator (given the signs, Flipout's
 * is), so the sample mean is within 5 SE `sqrt(Var / n)` and the sample variance within
 * `5 Var sqrt(2 / (n - 1))`. The batch holds one example twice, which tells the estimators apart:
 * the two outputs share the whole draw under reparameterization,
 * `Cov[y_1, y_2] = Var[y]`, but only the bias draw under local reparameterization and Flipout
 * (independent noise, independent signs), `Cov[y_1, y_2] = sigma_b^2`; the sample covariance is
 * within 5 SE `sqrt((Var^2 + Cov^2) / n)`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, setSeed } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';
import { disposeLayer } from '../fixtures/layers.js';

type Ctor = new (a: Record<string, unknown>) => layers.BayesianLayer;
const L = layers as unknown as Record<string, Ctor>;

const KINDS: [string, Record<string, unknown>, number[]][] = [
  [
    'Conv1D',
    { filters: 2, kernelSize: 3, strides: 2, padding: 'same', dataFormat: 'channelsFirst' },
    [2, 2, 7],
  ],
  ['Conv1D', { filters: 2, kernelSize: 2, dilationRate: 2, padding: 'causal' }, [2, 6, 2]],
  [
    'Conv',
    { filters: 2, kernelSize: [2, 3], strides: 2, padding: 'same', dataFormat: 'channelsFirst' },
    [2, 2, 5, 4],
  ],
  [
    'Conv',
    { filters: 4, kernelSize: 2, group: 2, dilationRate: [1, 2], padding: 'valid' },
    [1, 4, 5, 4],
  ],
  [
    'Conv2DTranspose',
    { filters: 2, kernelSize: 3, strides: 2, padding: 'same', dataFormat: 'channelsFirst' },
    [2, 2, 3, 2],
  ],
  [
    'Conv3D',
    { filters: 2, kernelSize: 2, strides: [1, 2, 1], dilationRate: [1, 1, 2], padding: 'same' },
    [1, 3, 3, 4, 2],
  ],
  [
    'Conv3DTranspose',
    { filters: 2, kernelSize: 2, strides: 2, dataFormat: 'channelsFirst' },
    [1, 2, 2, 2, 1],
  ],
];
const PASSES = 300;

describe('audit19: every estimator has the reparameterized moments on every convolution kind', () => {
  for (const [kind, args, shape] of KINDS) {
    it(`${kind} ${JSON.stringify(args)} on [${shape.join(', ')}]`, () => {
      for (const suffix of ['Reparam', 'LocalReparam', 'Flipout']) {
        setSeed(5);
        const l = new L[kind + suffix]!({
          ...args,
          posteriorMuInitial: [0, 0.5],
          posteriorRhoInitial: [-1, 0.3],
        });
        l.build(shape);
        const x = tf.tidy(() => {
          const one = tf.randomNormal([1, ...shape.slice(1)], 0, 1, 'float32', 9);
          return tf.concat([one, one]);
        });
        const w = l.getWeights().map((t) => t.clone());
        const biasVar = tf.tidy(() => tf.square(tf.softplus(w[3]!)).dataSync());
        // references in mean mode: op(x, mu) + mu_b, then op(x^2, sigma^2) + sigma_b^2
        l.mode = 'mean';
        const mean = l.apply(x) as tf.Tensor;
        const sig2 = w.map((t, i) => (i % 2 === 1 ? tf.square(tf.softplus(t)) : t.clone()));
        l.setWeights([sig2[1]!, w[1]!, sig2[3]!, w[3]!]);
        const x2 = tf.square(x);
        const variance = l.apply(x2) as tf.Tensor;
        l.setWeights(w);
        l.mode = 'sample';
        const [m, v, c] = tf.tidy(() => {
          const draws = tf.stack(Array.from({ length: PASSES }, () => l.apply(x) as tf.Tensor));
          const mo = tf.moments(draws, 0);
          // covariance of the two copies' outputs, per output element
          const [a, b] = tf.split(tf.sub(draws, mo.mean), 2, 1);
          const cov = tf.div(tf.sum(tf.mul(a!, b!), 0), PASSES - 1);
          return [mo.mean, tf.mul(mo.variance, PASSES / (PASSES - 1)), cov];
        });
        const [md, vd, cd, mr, vr] = [m!, v!, c!, mean, variance].map((t) => t.dataSync());
        const half = md!.length / 2;
        const filters = args['filters'] as number;
        const channelsLast = args['dataFormat'] !== 'channelsFirst';
        for (let i = 0; i < md!.length; i++) {
          const what = `${kind}${suffix} output ${i}`;
          expect(Math.abs(md![i]! - mr![i]!), what).toBeLessThan(5 * Math.sqrt(vr![i]! / PASSES));
          const tol = 5 * Math.sqrt(2 / (PASSES - 1));
          expect(Math.abs(vd![i]! / vr![i]! - 1), what).toBeLessThan(tol);
          if (i >= half) continue;
          // the output channel of element i, whose bias draw the two copies share
          const ch = channelsLast ? i % filters : Math.floor(i / (half / filters));
          const want = suffix === 'Reparam' ? vr![i]! : biasVar[ch]!;
          const se = Math.sqrt((vr![i]! ** 2 + want ** 2) / PASSES);
          expect(Math.abs(cd![i]! - want), `${what}: Cov[y_1, y_2]`).toBeLessThan(5 * se);
        }
        tf.dispose([x, x2, mean, variance, m!, v!, c!, ...w, ...sig2]);
        disposeLayer(l);
      }
    });
  }

  it('sampling passes leave no tensor behind', () => {
    setSeed(2);
    const l = new layers.Conv3DTransposeFlipout({ filters: 2, kernelSize: 2, strides: 2 });
    const x = tf.randomNormal([1, 2, 2, 2, 1]);
    l.build(x.shape);
    expectNoLeak(() => {
      for (let i = 0; i < 3; i++) (l.apply(x) as tf.Tensor).dispose();
    });
    x.dispose();
    disposeLayer(l);
  });
});
