import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  Bernoulli,
  Binomial,
  Categorical,
  Normal,
  Poisson,
} from '../../src/distributions/index.js';
import { NotDefinedError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';

describe("enumerateSupport (Pyro's enumerate_support)", () => {
  it('lists a finite support along a leading dim, expanded over the batch or not', () => {
    const cat = new Categorical({ probs: tf.fill([2, 3], 1 / 3) });
    const e = cat.enumerateSupport();
    expect(e.shape).toEqual([3, 2]);
    expect(e.dtype).toBe('float32');
    expect(e.arraySync()).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
    const f = cat.enumerateSupport(false);
    expect(f.shape).toEqual([3, 1]);
    // summing the probabilities over the enumerated values gives 1 per batch member
    const total = tf.tidy(() => tf.sum(tf.exp(cat.logProb(e)), 0));
    expect(total).toBeAllclose([1, 1], { atol: 1e-6 });
    tf.dispose([e, f, total]);
    cat.dispose();

    const bern = new Bernoulli({ probs: [0.2, 0.7, 0.5] });
    expectNoLeak(() => {
      const b = bern.enumerateSupport();
      expect(b.arraySync()).toEqual([
        [0, 0, 0],
        [1, 1, 1],
      ]);
      return b;
    });
    bern.dispose();
    const bin = new Binomial(4, { probs: 0.3 });
    expect(Array.from(expectNoLeak(() => bin.enumerateSupport()))).toEqual([0, 1, 2, 3, 4]);
    // the binomial masses over its support sum to one (closed form: (p + q)^n)
    const s = tf.tidy(() => tf.sum(tf.exp(bin.logProb(bin.enumerateSupport()))));
    expect(s).toBeAllclose(1, { atol: 1e-6 });
    s.dispose();
    bin.dispose();
    // an expanded Bernoulli enumerates over its new batch shape
    const half = new Bernoulli({ probs: 0.5 });
    const ex = half.expand([2, 2]);
    expect(expectNoLeak(() => ex.enumerateSupport()).length).toBe(8);
    ex.dispose();
    half.dispose(); // a wrapper's base stays the caller's
  });

  it('is a NotDefinedError for infinite or continuous supports, or an event shape', () => {
    const before = tf.memory().numTensors;
    const base = new Bernoulli({ probs: [0.5, 0.5] });
    const ds = [
      new Poisson(2),
      new Normal(0, 1),
      base.toEvent(1),
      new Binomial([2, 3], { probs: 0.5 }),
      base,
    ];
    for (const d of ds.slice(0, 4)) expect(() => d.enumerateSupport()).toThrow(NotDefinedError);
    expect(() => ds[0]?.enumerateSupport('yes' as never)).toThrow(/^expand:/);
    ds.forEach((d) => d.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});
