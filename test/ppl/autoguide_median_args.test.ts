/**
 * Pyro's `guide.median(*args)`: the model's arguments may be given to `median`; a guide never
 * called is set up with them (parameters at their initial values), a trained one ignores them.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Normal } from '../../src/distributions/index.js';
import {
  AutoDelta,
  AutoDiagonalNormal,
  AutoGuideList,
  AutoNormal,
  clearParamStore,
  plate,
  sample,
} from '../../src/ppl/index.js';

const model = (y: tf.Tensor): void => {
  const mu = sample('mu', new Normal(2.5, 1));
  plate('data', y.shape[0] as number, () => sample('y', new Normal(mu, 1), { obs: y }));
};

afterEach(() => clearParamStore());

describe('guide.median(...args) as Pyro', () => {
  it('sets up a guide never called, at its initial locations; no tensors left', () => {
    const before = tf.memory().numTensors;
    const y = tf.tensor1d([1, 2, 3]);
    for (const make of [
      () => new AutoNormal(model, { initLoc: 'mean' }),
      () => new AutoDelta(model, { initLoc: 'mean' }),
      () => new AutoDiagonalNormal(model, { initLoc: 'mean' }),
    ]) {
      const guide = make();
      expect(() => guide.median()).toThrow(/call the guide/);
      const m = guide.median(y);
      expect(m.mu!.dataSync()[0]).toBeCloseTo(2.5, 5); // the prior mean, as initLoc 'mean'
      // a guide already set up ignores the arguments
      const other = tf.tensor1d([100]);
      const again = guide.median(other);
      other.dispose();
      expect(again.mu!.dataSync()[0]).toBeCloseTo(2.5, 5);
      tf.dispose([...Object.values(m), ...Object.values(again)]);
      guide.dispose();
      clearParamStore();
    }
    const list = new AutoGuideList(model);
    list.append(new AutoNormal(model, { initLoc: 'mean' }));
    const lm = list.median(y);
    expect(lm.mu!.dataSync()[0]).toBeCloseTo(2.5, 5);
    tf.dispose(Object.values(lm));
    list.dispose();
    clearParamStore();
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
