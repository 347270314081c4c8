/**
 * Pyro's SVI optimizes the params its param-only trace captures (`poutine.trace(param_only=True)`
 * around the loss), so a param hidden by `block` is not optimized: the Pyro way to freeze one.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

const num = (t: tf.Tensor): number => t.dataSync()[0] as number;

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

describe('block hides params from SVI (Pyro`s param capture)', () => {
  const y = [2.0, 2.4, 1.6];
  const model = (yt: tf.Tensor): void => {
    const mu = ppl.sample('mu', new D.Normal(0, 1));
    ppl.plate('data', 3, () => ppl.sample('y', new D.Normal(mu, 1), { obs: yt }));
  };
  const guide = (): void => {
    const loc = ppl.param('loc', 0);
    const scale = ppl.param('scale', 0.3, { constraint: ppl.constraints.positive });
    ppl.sample('mu', new D.Normal(loc, scale));
  };
  it('a param hidden by block keeps its value; the others are fitted', () => {
    const yt = tf.tensor1d(y);
    const frozen = ppl.block(guide, { hide: ['scale'] });
    const svi = new ppl.SVI(model, frozen, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 60; i++) svi.step(yt);
    expect(num(ppl.getParamStore().value('scale'))).toBeCloseTo(0.3, 5);
    expect(num(ppl.getParamStore().value('loc'))).toBeGreaterThan(0.5);
    // hideTypes: ['param'] freezes all of the guide's params
    ppl.clearParamStore();
    const all = ppl.block(guide, { hideTypes: ['param'] });
    const svi2 = new ppl.SVI(model, all, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 10; i++) svi2.step(yt);
    expect(num(ppl.getParamStore().value('loc'))).toBe(0);
    // unblocked: both move
    ppl.clearParamStore();
    const svi3 = new ppl.SVI(model, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 20; i++) svi3.step(yt);
    expect(Math.abs(num(ppl.getParamStore().value('scale')) - 0.3)).toBeGreaterThan(1e-3);
    yt.dispose();
  });
});
