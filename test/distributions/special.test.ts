/**
 * The special functions behind the families (float32 tensor ops) against @stdlib (float64), over
 * wide argument ranges, and their gradients against the known derivatives.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import gammaln from '@stdlib/math-base-special-gammaln';
import digammaRef from '@stdlib/math-base-special-digamma';
import erfRef from '@stdlib/math-base-special-erf';
import gammaRef from '@stdlib/stats-base-dists-gamma';
import betaRef from '@stdlib/stats-base-dists-beta';
import normalRef from '@stdlib/stats-base-dists-normal';
import {
  betainc,
  digamma,
  erfc,
  gammaincPQ,
  lgamma,
  logNdtr,
  ndtr,
} from '../../src/distributions/special.js';
import { gammaP64, lgamma64 } from '../../src/distributions/host_sampling.js';
import { expectNoLeak } from '../helpers.js';

type Fn = (...a: number[]) => number;
const XS = [1e-3, 0.07, 0.5, 1, 1.5, 2, 3.7, 9, 25, 170, 4e3, 1e6];

describe('special functions', () => {
  it('lgamma and digamma match @stdlib (1e-6 absolute + 1e-6 relative)', () => {
    expect(expectNoLeak(() => tf.tidy(() => lgamma(tf.tensor1d(XS))))).toBeAllclose(
      XS.map(gammaln),
      {
        rtol: 1e-6,
        atol: 2e-6,
      },
    );
    expect(expectNoLeak(() => tf.tidy(() => digamma(tf.tensor1d(XS))))).toBeAllclose(
      XS.map(digammaRef),
      {
        rtol: 1e-6,
        atol: 2e-6,
      },
    );
  });

  it('d/dx lgamma = digamma (autodiff through the series)', () => {
    const g = expectNoLeak(() =>
      tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(lgamma(x)))(tf.tensor1d(XS))),
    );
    expect(g).toBeAllclose(XS.map(digammaRef), { rtol: 1e-5, atol: 1e-5 });
  });

  it('erfc, ndtr and logNdtr are accurate in relative terms in the tails', () => {
    const z = [-30, -8, -3, -1, -1e-3, 0, 0.5, 2, 5];
    expect(expectNoLeak(() => tf.tidy(() => erfc(tf.tensor1d(z))))).toBeAllclose(
      z.map((v) => 1 - (erfRef as unknown as Fn)(v)),
      // float32: the exp(-y^2) factor limits relative accuracy to ~1e-5 at |y| = 5
      { rtol: 3e-5, atol: 0 },
    );
    const zz = [-8, -3, -1, 0, 0.5, 2, 5];
    expect(expectNoLeak(() => tf.tidy(() => ndtr(tf.tensor1d(zz))))).toBeAllclose(
      zz.map((v) => (normalRef.cdf as Fn)(v, 0, 1)),
      { rtol: 3e-5, atol: 0 },
    );
    const zl = [-30, -8, -3, -1, 0, 2];
    expect(expectNoLeak(() => tf.tidy(() => logNdtr(tf.tensor1d(zl))))).toBeAllclose(
      zl.map((v) => (normalRef.logcdf as Fn)(v, 0, 1)),
      { rtol: 1e-5, atol: 1e-7 },
    );
  });

  it('regularized incomplete gamma P and Q match @stdlib, including large arguments', () => {
    const a = [0.3, 1, 2.5, 7, 50, 400];
    const x = [0.1, 3, 1.2, 9, 45, 430];
    const [p, q] = tf.tidy(() =>
      gammaincPQ(tf.tensor1d(a), tf.tensor1d(x)).map((t) => t.arraySync()),
    );
    const pRef = a.map((ai, i) => (gammaRef.cdf as Fn)(x[i] as number, ai, 1));
    expect(p).toBeAllclose(pRef, { rtol: 2e-5, atol: 1e-6 });
    expect(q).toBeAllclose(
      pRef.map((v) => 1 - v),
      { rtol: 2e-5, atol: 1e-6 },
    );
  });

  it('regularized incomplete beta matches @stdlib', () => {
    const a = [0.5, 1, 2.5, 20, 0.7, 60];
    const b = [0.5, 3, 1.5, 30, 8, 40];
    const x = [0.1, 0.3, 0.9, 0.45, 0.02, 0.62];
    const v = tf.tidy(() => betainc(tf.tensor1d(a), tf.tensor1d(b), tf.tensor1d(x)).arraySync());
    expect(v).toBeAllclose(
      a.map((ai, i) => (betaRef.cdf as Fn)(x[i] as number, ai, b[i] as number)),
      { rtol: 2e-5, atol: 1e-6 },
    );
  });

  it('float64 host helpers (implicit-gradient machinery) match @stdlib to 1e-12', () => {
    for (const v of [0.2, 1, 3.5, 40, 1000]) expect(lgamma64(v)).toBeCloseTo(gammaln(v), 11);
    for (const [a, x] of [
      [0.3, 0.01],
      [2.5, 1],
      [2.5, 6],
      [300, 280],
    ] as [number, number][]) {
      expect(gammaP64(a, x)).toBeCloseTo((gammaRef.cdf as Fn)(x, a, 1), 12);
    }
  });
});

describe('broadcastTo (utils/tensor)', () => {
  it('has the broadcast gradient in one reduction (tf.broadcastTo tiles: quadratic)', async () => {
    const { broadcastTo } = await import('../../src/utils/tensor.js');
    const x = tf.scalar(2);
    const t0 = performance.now();
    const g = expectNoLeak(() => tf.grad((v: tf.Tensor) => tf.sum(broadcastTo(v, [200000])))(x));
    expect(g).toEqual([200000]);
    expect(performance.now() - t0).toBeLessThan(5000); // tf.broadcastTo's Tile grad: minutes
    const b = tf.tensor1d([true, false], 'bool');
    expect(expectNoLeak(() => broadcastTo(b, [2, 2]))).toEqual([1, 0, 1, 0]);
    tf.dispose([x, b]);
  });
});
