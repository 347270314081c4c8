/**
 * NumPyro's `svi.run(rng_key, num_steps, *args)` and `svi.get_params(state)`, as every NumPyro
 * example writes them (`svi_result = svi.run(...)`, `svi_result.params`, `svi_result.losses`):
 * `SVI.run(numSteps, ...args)` is that many `step`s (same draws from the seed stream, same
 * losses), returning the constrained parameters and the losses. Reference: a Normal mean with
 * known noise, whose exact posterior `N(m, s²)` a Normal guide reaches (closed form, float64).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  clearSeed();
  ppl.clearParamStore();
});

const Y = [1.1, 0.4, 1.9, 1.3, 0.8];
const model = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 2));
  ppl.plate('data', y.shape[0] as number, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y }));
};
const guide = (): void => {
  const loc = ppl.param('loc', 0);
  const scale = ppl.param('scale', 1, { constraint: ppl.constraints.positive });
  ppl.sample('mu', new D.Normal(loc, scale));
};

describe("SVI.run and getParams (NumPyro's svi.run / get_params)", () => {
  it('run(n) is n steps with the same draws; params are the constrained values; the exact posterior', () => {
    const y = tf.tensor1d(Y);
    const steps = 200;
    setSeed(5);
    const looped = new ppl.SVI(model, guide, tf.train.adam(0.1), new ppl.TraceELBO());
    const stepLosses = Array.from({ length: steps }, () => looped.step(y));
    const byStep = looped.getParams();
    ppl.clearParamStore();
    setSeed(5);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.1), new ppl.TraceELBO());
    const { params, losses } = svi.run(steps, y);
    expect(Object.keys(params).sort()).toEqual(['loc', 'scale']);
    expect(losses).toEqual(stepLosses);
    expect(params.loc?.dataSync()[0]).toBe(byStep.loc?.dataSync()[0]);
    expect(params.scale?.dataSync()[0]).toBe(byStep.scale?.dataSync()[0]);
    // the constrained scale, and the exact posterior: precision 1/4 + n, mean sum(y) / precision
    // (the last iterate of a one-draw stochastic optimization, within 0.25 of the optimum; the
    // start, loc 0 and scale 1, is 1.05 and 0.57 away)
    const prec = 1 / 4 + Y.length;
    const exactMean = Y.reduce((a, b) => a + b, 0) / prec;
    expect(Math.abs((params.loc?.dataSync()[0] as number) - exactMean)).toBeLessThan(0.25);
    expect(params.scale?.dataSync()[0]).toBeGreaterThan(0);
    expect(Math.abs((params.scale?.dataSync()[0] as number) - 1 / Math.sqrt(prec))).toBeLessThan(
      0.1,
    );
    // getParams gives fresh copies of the store's constrained values
    const again = svi.getParams();
    expect(again.scale).not.toBe(params.scale);
    expect(again.scale?.dataSync()[0]).toBe(params.scale?.dataSync()[0]);
    tf.dispose([...Object.values(params), ...Object.values(again), ...Object.values(byStep)]);
    // once the store and the optimizer hold their variables, a run leaves only what it returns
    const before = tf.memory().numTensors;
    const more = svi.run(3, y);
    expect(more.losses.length).toBe(3);
    tf.dispose(Object.values(more.params));
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it('getParams before any step is empty; a bad numSteps is refused naming it, before a step', () => {
    const y = tf.tensor1d(Y);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    expect(svi.getParams()).toEqual({});
    for (const bad of [0, -3, 1.5, Number.NaN, '10' as unknown as number]) {
      expect(() => svi.run(bad, y)).toThrow(ArgumentError);
      expect(() => svi.run(bad, y)).toThrow(/numSteps/);
    }
    expect(ppl.getParamStore().names()).toEqual([]);
    y.dispose();
  });
});
