/**
 * Handlers composed with inference, as a Pyro user writes them: `TraceELBO` of `scale(model, c)`
 * and `mask(model, m)` at a seeded guide draw against the hand-computed float64 ELBO, and params
 * with `eventDim` under two nested subsampled plates.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

const LOG_2PI = Math.log(2 * Math.PI);
const nlp = (x: number, m: number, s: number): number =>
  -0.5 * LOG_2PI - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
const num = (t: tf.Tensor): number => t.dataSync()[0] as number;

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const Y = [0.9, 1.7, -0.4];
const model = (yt: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 1.5));
  ppl.plate('data', 3, () => ppl.sample('y', new D.Normal(mu, 0.8), { obs: yt }));
};
const guide = (): void => {
  ppl.sample('mu', new D.Normal(0.4, 0.6));
};
/** The guide's draw under seed 7. */
const draw = (): number =>
  tf.tidy(() => num(ppl.seed(() => ppl.sample('mu', new D.Normal(0.4, 0.6)), 7)()));

describe('TraceELBO of scaled and masked models (one seeded particle)', () => {
  it('scale(model, c): loss = -(c log p(mu, y) - log q(mu))', () => {
    const yt = tf.tensor1d(Y);
    const mu = draw();
    const lq = nlp(mu, 0.4, 0.6);
    const lp = nlp(mu, 0, 1.5) + Y.reduce((s, y) => s + nlp(y, mu, 0.8), 0);
    const elbo = new ppl.TraceELBO();
    const before = tf.memory().numTensors;
    expect(elbo.loss(model, ppl.seed(guide, 7), yt)).toBeCloseTo(-(lp - lq), 3);
    expect(elbo.loss(ppl.scale(model, 2.5), ppl.seed(guide, 7), yt)).toBeCloseTo(
      -(2.5 * lp - lq),
      3,
    );
    // scaling model and guide alike scales the whole ELBO (Pyro's minibatch scaling)
    expect(elbo.loss(ppl.scale(model, 2.5), ppl.scale(ppl.seed(guide, 7), 2.5), yt)).toBeCloseTo(
      -2.5 * (lp - lq),
      3,
    );
    expect(tf.memory().numTensors).toBe(before);
    yt.dispose();
  });
  it('mask(model, m) on the data drops the masked observations from the ELBO', () => {
    const yt = tf.tensor1d(Y);
    const m = tf.tensor1d([true, false, true], 'bool');
    const mu = draw();
    const lq = nlp(mu, 0.4, 0.6);
    const masked = (y: tf.Tensor): void => {
      const v = ppl.sample('mu', new D.Normal(0, 1.5));
      ppl.plate('data', 3, () =>
        ppl.mask(() => ppl.sample('y', new D.Normal(v, 0.8), { obs: y }), m)(),
      );
    };
    const lp = nlp(mu, 0, 1.5) + nlp(Y[0] as number, mu, 0.8) + nlp(Y[2] as number, mu, 0.8);
    const loss = new ppl.TraceELBO().loss(masked, ppl.seed(guide, 7), yt);
    expect(loss).toBeCloseTo(-(lp - lq), 3);
    // mask(false) on the whole model leaves only -(-log q): the model contributes nothing
    const none = new ppl.TraceELBO().loss(ppl.mask(model, false), ppl.seed(guide, 7), yt);
    expect(none).toBeCloseTo(lq, 3);
    tf.dispose([yt, m]);
  });
});

describe('param eventDim under nested subsampled plates', () => {
  it('a [4, 3] param is sliced by both plates` subsamples', () => {
    const init = tf.tensor2d([
      [0, 1, 2],
      [10, 11, 12],
      [20, 21, 22],
      [30, 31, 32],
    ]);
    const out = tf.tidy(() =>
      ppl.plate('rows', 4, { subsample: [3, 1], dim: -2 }, () =>
        ppl.plate('cols', 3, { subsample: [2, 0], dim: -1 }, () => {
          const v = ppl.param('grid', init, { eventDim: 0 });
          return { shape: v.shape, values: Array.from(v.dataSync()) };
        }),
      ),
    );
    expect(out.shape).toEqual([2, 2]);
    expect(out.values).toEqual([32, 30, 12, 10]);
    // a [4, 1] param broadcasts over the columns: only the rows are sliced
    const col = tf.tensor2d([[0], [1], [2], [3]]);
    const out2 = tf.tidy(() =>
      ppl.plate('rows', 4, { subsample: [3, 1], dim: -2 }, () =>
        ppl.plate('cols', 3, { subsample: [2, 0], dim: -1 }, () =>
          Array.from(ppl.param('colp', col, { eventDim: 0 }).dataSync()),
        ),
      ),
    );
    expect(out2).toEqual([3, 1]);
    tf.dispose([init, col]);
  });
});
