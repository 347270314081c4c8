import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

const logpdf = normalRef.logpdf as (x: number, m: number, s: number) => number;

afterEach(() => ppl.clearParamStore());

const ys = [0.5, -1, 2];
const w = [2, 0.5, 1.5];

// before: scale(model, tensor) threw "scale: expected a finite number > 0, got Tensor"
describe('scale with a tensor of per-datum weights', () => {
  const model = (y: tf.Tensor): void => {
    const mu = ppl.sample('mu', new D.Normal(0, 1));
    ppl.plate('N', 3, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y }));
  };
  const guide = (): void => {
    ppl.sample('mu', new D.Normal(0.3, 0.5));
  };

  it('weights each datum: sum_i w_i log p(y_i | mu), in traces and ELBOs', () => {
    const y = tf.tensor1d(ys);
    const wt = tf.tensor1d(w);
    const weighted = (yy: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.scale(
        () => ppl.plate('N', 3, () => ppl.sample('y', new D.Normal(mu, 1), { obs: yy })),
        wt,
      )();
    };
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.seed(weighted, 4)).getTrace(y);
    const mu = tr.value('mu').dataSync()[0] as number;
    const hand =
      logpdf(mu, 0, 1) + ys.reduce((a, v, i) => a + (w[i] as number) * logpdf(v, mu, 1), 0);
    expect(tf.tidy(() => tr.logProbSum().dataSync()[0] as number)).toBeCloseTo(hand, 4);
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // TraceMeanFieldELBO with the whole model weighted by a scalar-shaped tensor: 2 (KL + lik)
    const g = ppl.seed(guide, 5);
    const gt = ppl.trace(g).getTrace();
    const z = gt.value('mu').dataSync()[0] as number;
    gt.dispose();
    const kl = Math.log(1 / 0.5) + (0.5 ** 2 + 0.3 ** 2) / 2 - 0.5;
    const two = tf.scalar(2);
    const lik = ys.reduce((a, v) => a + logpdf(v, z, 1), 0);
    const l = new ppl.TraceMeanFieldELBO().loss<[tf.Tensor]>(ppl.scale(model, two), g, y);
    expect(l).toBeCloseTo(-2 * (lik - kl), 4);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([y, wt, two]);
  });

  it('with integer weights equals the model with the data repeated', () => {
    const y = tf.tensor1d(ys);
    const wt = tf.tensor1d([2, 1, 3]);
    const yRep = tf.tensor1d([ys[0], ys[0], ys[1], ys[2], ys[2], ys[2]] as number[]);
    const rep = (): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('N', 6, () => ppl.sample('y', new D.Normal(mu, 1), { obs: yRep }));
    };
    const weighted = (): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.scale(
        () => ppl.plate('N', 3, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y })),
        wt,
      )();
    };
    const g = ppl.seed(guide, 6);
    const e = new ppl.TraceELBO();
    expect(e.loss(weighted, g)).toBeCloseTo(e.loss(rep, g), 4);
    const ev = new ppl.TraceELBO({ numParticles: 4, vectorizeParticles: true });
    expect(ev.loss(weighted, g)).toBeCloseTo(ev.loss(rep, g), 4);
    tf.dispose([y, wt, yRep]);
  });

  it('rejects weights that are not finite and > 0, or that do not fit the site', () => {
    const bad = [tf.tensor1d([1, 0, 2]), tf.tensor1d([1, NaN, 2]), tf.tensor1d([1, -1, 2])];
    for (const t of bad) {
      expect(() => ppl.scale(model, t)).toThrow(
        /scale: expected finite values > 0, got .* at element 1/,
      );
    }
    expect(() => ppl.scale(model, Infinity)).toThrow(/scale: expected a finite number > 0/);
    const y = tf.tensor1d(ys);
    const w2 = tf.tensor1d([1, 2]);
    // a weight per datum does not fit the global mu
    expect(() => ppl.trace(ppl.scale(model, w2)).getTrace(y).logProbSum()).toThrow(
      /sample site 'mu': its scale of shape \[2\] does not broadcast to the site's log-probability shape \[\]/,
    );
    const inPlate = (yy: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.scale(
        () => ppl.plate('N', 3, () => ppl.sample('y', new D.Normal(mu, 1), { obs: yy })),
        w2,
      )();
    };
    expect(() => new ppl.TraceELBO().loss<[tf.Tensor]>(inPlate, guide, y)).toThrow(
      /sample site 'y': its scale of shape \[2\] does not broadcast to the site's log-probability shape \[3\]/,
    );
    tf.dispose([...bad, y, w2]);
  });
});
