/**
 * `logLikelihood` (NumPyro's `log_likelihood`) with plates and masks, against float64 references
 * written here:
 * - nested plates (`i` at dim -2 with a local scale, `j` at dim -1): `[S, 3, 2]` and
 *   `[C, D, 3, 2]` with `batchNdims: 2`, each entry `log N(y_ij; mu_s, s_si)`;
 * - `obsMask` (NumPyro's `_masked_observe` under its `mask` handler, which wraps the
 *   distribution): `y_observed` is 0 at the missing entries, `log N(y_i; mu_s, 1)` elsewhere, and
 *   the combined value `y` (a deterministic site in NumPyro) is left out;
 * - the `mask` handler zeroes the masked data, the `scale` handler is not applied.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => clearSeed());

const lnN = (x: number, m: number, s: number): number =>
  -0.5 * Math.log(2 * Math.PI * s * s) - ((x - m) * (x - m)) / (2 * s * s);

describe('logLikelihood with plates and masks', () => {
  it('nested plates: [S, 3, 2] and [C, D, 3, 2] entries log N(y_ij; mu_s, s_si)', () => {
    setSeed(2);
    const model = (y: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('i', 3, { dim: -2 }, () => {
        const s = ppl.sample('s', new D.LogNormal(0, 1));
        ppl.plate('j', 2, () => ppl.sample('y', new D.Normal(mu, s), { obs: y }));
      });
    };
    const yv = [
      [0.3, -1.1],
      [2.0, 0.4],
      [-0.6, 1.7],
    ];
    const muv = [0.2, -0.5, 1.1, 0.7];
    const sv = [0.5, 1.2, 2.0, 0.8, 1.0, 1.5, 0.6, 0.9, 1.1, 2.2, 0.7, 1.3];
    const y = tf.tensor2d(yv);
    const mu = tf.tensor1d(muv);
    const s = tf.tensor3d(sv, [4, 3, 1]);
    const ll = ppl.logLikelihood(model, { mu, s }, y);
    expect(Object.keys(ll)).toEqual(['y']);
    expect(ll['y']!.shape).toEqual([4, 3, 2]);
    const got = ll['y']!.arraySync() as number[][][];
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 2; j++) {
          expect(got[k]![i]![j]).toBeCloseTo(lnN(yv[i]![j]!, muv[k]!, sv[k * 3 + i]!), 4);
        }
      }
    }
    const mu2 = mu.reshape([2, 2]);
    const s2 = s.reshape([2, 2, 3, 1]);
    const ll2 = ppl.logLikelihood(
      model,
      { posteriorSamples: { mu: mu2, s: s2 }, batchNdims: 2 },
      y,
    );
    expect(ll2['y']!.shape).toEqual([2, 2, 3, 2]);
    const flat = ll2['y']!.reshape([4, 3, 2]);
    expect(tf.max(tf.abs(tf.sub(flat, ll['y']!))).dataSync()[0]).toBe(0);
    tf.dispose([y, mu, s, mu2, s2, flat, ll['y']!, ll2['y']!]);
  });

  it('obsMask: y_observed is 0 at the missing entries; the combined value is left out', () => {
    const model = (y: tf.Tensor, m: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('N', 4, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y, obsMask: m }));
    };
    const yv = [1, 2, 3, -1];
    const mv = [true, false, true, true];
    const y = tf.tensor1d(yv);
    const m = tf.tensor1d(
      mv.map((b) => (b ? 1 : 0)),
      'bool',
    );
    const muv = [0.5, 1];
    const mu = tf.tensor1d(muv);
    const u = tf.tensor2d([
      [9, 9, 9, 9],
      [8, 8, 8, 8],
    ]);
    const ll = ppl.logLikelihood(model, { mu, y_unobserved: u }, y, m);
    expect(Object.keys(ll)).toEqual(['y_observed']);
    const got = ll['y_observed']!.arraySync() as number[][];
    muv.forEach((mk, k) =>
      yv.forEach((yi, i) => expect(got[k]![i]).toBeCloseTo(mv[i] ? lnN(yi, mk, 1) : 0, 5)),
    );
    expectNoLeak(() => Object.values(ppl.logLikelihood(model, { mu, y_unobserved: u }, y, m)));
    tf.dispose([y, m, mu, u, ll['y_observed']!]);
  });

  it('the mask handler zeroes masked data; the scale handler is not applied', () => {
    const yv = [0.4, -0.3, 1.2];
    const model = (y: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('N', 3, () =>
        ppl.scale(
          () =>
            ppl.mask(
              () => ppl.sample('y', new D.Normal(mu, 1), { obs: y }),
              tf.tensor1d([1, 0, 1], 'bool'),
            )(),
          5,
        )(),
      );
    };
    const y = tf.tensor1d(yv);
    const mu = tf.tensor1d([0.1, -0.2]);
    const ll = ppl.logLikelihood(model, { mu }, y);
    const got = ll['y']!.arraySync() as number[][];
    [0.1, -0.2].forEach((mk, k) =>
      yv.forEach((yi, i) => expect(got[k]![i]).toBeCloseTo(i === 1 ? 0 : lnN(yi, mk, 1), 5)),
    );
    tf.dispose([y, mu, ll['y']!]);
  });
});
