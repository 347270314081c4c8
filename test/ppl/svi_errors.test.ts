import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

afterEach(() => {
  ppl.clearParamStore();
});

describe('SVI.step that throws', () => {
  it('leaks no tensors, leaves no handler or plate dim behind, and names the site', () => {
    const y = tf.tensor1d([0.5, 1.5, -0.2]);
    const model = (obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      const tau = ppl.sample('tau', new D.HalfNormal(1));
      ppl.plate('data', 3, () => ppl.sample('y', new D.Normal(mu, tau), { obs }));
    };
    const guide = (): void => {
      const loc = ppl.param('loc', 0);
      ppl.sample('mu', new D.Normal(loc, 1)); // 'tau' is missing
    };
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.01), new ppl.TraceELBO());
    expect(() => svi.step(y)).toThrow(/'tau'/); // creates the params, then throws
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) expect(() => svi.step(y)).toThrow(/'tau'/);
    expect(tf.memory().numTensors).toBe(before);
    expect(ppl.HANDLER_STACK.length).toBe(0);
    // the plate's dim was released: a fresh plate gets dim -1 again
    const tr = ppl
      .trace(() => ppl.plate('p', 2, () => ppl.sample('z', new D.Normal(0, 1))))
      .getTrace();
    expect(tr.get('z')?.cond[0]?.dim).toBe(-1);
    tr.dispose();
    // a site whose value is outside its support in the middle of a plate, through SVI
    const bad = (obs: tf.Tensor): void => {
      ppl.plate('data', 3, () => ppl.sample('y', new D.Poisson(2), { obs }));
    };
    const svi2 = new ppl.SVI(bad, () => undefined, tf.train.adam(0.01), new ppl.TraceELBO());
    const b2 = tf.memory().numTensors;
    expect(() => svi2.step(y)).toThrow(/'y'.*outside the support/);
    expect(tf.memory().numTensors).toBe(b2);
    y.dispose();
  });
});
