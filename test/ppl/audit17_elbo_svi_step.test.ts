/**
 * Audit 17: `SVI.step` runs model and guide once per step, as Pyro's `SVI.step` (one
 * `loss_and_grads` under a param-capturing trace), also on a step that creates parameters: the
 * parameters created or first read by the run get their gradient from that run. References:
 * call counts, the decaying average after one step by hand (float64), SGD updates by hand.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const readParam = (name: string): number[] =>
  tf.tidy(() => Array.from(ppl.getParamStore().value(name).dataSync()));

describe('SVI.step runs model and guide once (Pyro)', { timeout: 120_000 }, () => {
  it('the first step (which creates the params) runs model and guide once, and returns the loss', () => {
    // z ~ Bernoulli(0.4), x | z ~ N(3z - 1.5, 1.2); q(z) = Bernoulli(exact posterior logit a):
    // the cost log p(x, z) - log q(z) is log p(x) whatever z is drawn
    const xv = 0.7;
    const lik = (z: number): number => normalRef.pdf(xv, 3 * z - 1.5, 1.2);
    const logpx = Math.log(0.4 * lik(1) + 0.6 * lik(0));
    const exactLogit = Math.log(0.4 / 0.6) + Math.log(lik(1)) - Math.log(lik(0));
    let modelCalls = 0;
    let guideCalls = 0;
    let netCalls = 0;
    const model = (x: tf.Tensor): void => {
      modelCalls++;
      const z = ppl.sample('z', new D.Bernoulli(0.4));
      ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 3), 1.5), 1.2), { obs: x });
    };
    // a baseline network whose weight is a param read only by the ELBO (not in any trace)
    const net = (input: tf.Tensor): tf.Tensor => {
      netCalls++;
      return tf.mul(tf.sum(input), ppl.param('w', tf.scalar(0.25)));
    };
    const guide = (): void => {
      guideCalls++;
      // the exact posterior's logit, fixed (only the baseline is learned): the cost stays log p(x)
      ppl.sample('z', new D.Bernoulli({ logits: exactLogit }), {
        infer: {
          baseline: {
            useDecayingAvgBaseline: true,
            baselineBeta: 0.8,
            nnBaseline: net,
            nnBaselineInput: tf.ones([2]),
          },
        },
      });
    };
    const x = tf.scalar(xv);
    setSeed(1);
    const elbo = new ppl.TraceGraphELBO();
    const lr = 0.1;
    const svi = new ppl.SVI(model, guide, tf.train.sgd(lr), elbo);
    const before = tf.memory().numTensors;
    const l1 = svi.step(x);
    expect([modelCalls, guideCalls, netCalls]).toEqual([1, 1, 1]);
    // the loss is -(log p - log q) = -log p(x)
    expect(l1).toBeCloseTo(-logpx, 4);
    // the average went from 0 once: 0.8 * 0 + 0.2 * log p(x)
    const avg = elbo.baselines.get('z');
    expect(avg?.values[0]).toBeCloseTo(0.2 * logpx, 5);
    // w (created inside the ELBO during the step) got its gradient from that run:
    // d/dw (cost - (0 + 2w))^2 = -4 (cost - 2w) at w = 0.25, SGD: w <- w - lr * grad
    const w1 = readParam('w')[0] as number;
    expect(w1).toBeCloseTo(0.25 + lr * 4 * (logpx - 0.5), 4);
    const l2 = svi.step(x);
    expect([modelCalls, guideCalls, netCalls]).toEqual([2, 2, 2]);
    expect(l2).toBeCloseTo(-logpx, 4);
    expect(elbo.baselines.get('z')?.values[0]).toBeCloseTo(0.8 * 0.2 * logpx + 0.2 * logpx, 5);
    // step 2's w gradient: -4 (cost - (avg_1 + 2 w1))
    expect(readParam('w')[0]).toBeCloseTo(w1 + lr * 4 * (logpx - 0.2 * logpx - 2 * w1), 4);
    // (the params made on the first step are new tensors; nothing else stays)
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 8);
    const mid = tf.memory().numTensors;
    svi.step(x);
    expect(tf.memory().numTensors).toBe(mid);
    x.dispose();
  });

  it('a param created on a later step (other arguments) is optimized on that step, one run', () => {
    // y ~ N(m, 1) (m a model param); with flag on, also u ~ N(k, 1) observed (k created then)
    let calls = 0;
    const model = (y: tf.Tensor, flag: boolean): void => {
      calls++;
      const m = ppl.param('m', tf.scalar(0.3));
      ppl.sample('y', new D.Normal(m, 1), { obs: y });
      if (flag) ppl.sample('u', new D.Normal(ppl.param('k', tf.scalar(-1)), 1), { obs: y });
    };
    const guide = (): void => {};
    const y = tf.scalar(1);
    const lr = 0.1;
    const svi = new ppl.SVI(model, guide, tf.train.sgd(lr), new ppl.TraceELBO());
    // -log N(1; m, 1): d/dm = -(1 - m)
    const l1 = svi.step(y, false);
    expect(calls).toBe(1);
    expect(l1).toBeCloseTo(-Math.log(normalRef.pdf(1, 0.3, 1)), 5);
    expect(readParam('m')[0]).toBeCloseTo(0.3 + lr * 0.7, 5);
    const m1 = 0.3 + lr * 0.7;
    svi.step(y, true);
    expect(calls).toBe(2);
    expect(readParam('m')[0]).toBeCloseTo(m1 + lr * (1 - m1), 5);
    expect(readParam('k')[0]).toBeCloseTo(-1 + lr * 2, 5);
    y.dispose();
  });

  it('a model with no params at all: one run, the loss returned, nothing leaks', () => {
    let calls = 0;
    const model = (y: tf.Tensor): void => {
      calls++;
      ppl.sample('y', new D.Normal(0, 1), { obs: y });
    };
    const y = tf.scalar(0.5);
    const svi = new ppl.SVI(model, () => {}, tf.train.sgd(0.1), new ppl.TraceELBO());
    const before = tf.memory().numTensors;
    expect(svi.step(y)).toBeCloseTo(-Math.log(normalRef.pdf(0.5, 0, 1)), 5);
    expect(calls).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it('a step whose model throws leaves no tensor behind and creates nothing twice', () => {
    let calls = 0;
    const model = (_y: tf.Tensor): void => {
      calls++;
      ppl.param('m', tf.scalar(0));
      throw new Error('boom');
    };
    const y = tf.scalar(0.5);
    const svi = new ppl.SVI(model, () => {}, tf.train.sgd(0.1), new ppl.TraceELBO());
    const before = tf.memory().numTensors;
    expect(() => svi.step(y)).toThrow('boom');
    expect(calls).toBe(1);
    // only the param the run made stays (its variable)
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(() => svi.step(y)).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before + 1);
    y.dispose();
  });
});
