import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';

afterEach(() => ppl.clearParamStore());

const model = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 1));
  ppl.sample('obs', new D.Normal(mu, 1), { obs: y });
};
const inPlate = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 1));
  ppl.plate('N', 4, () => ppl.sample('obs', new D.Normal(mu, 1), { obs: y }));
};
const wide = (): void => {
  ppl.sample('mu', new D.Normal(tf.zeros([3]), 1)); // wrong: shape [3] for a scalar site
};
const right = (): void => {
  ppl.sample('mu', new D.Normal(0.5, 1));
};

// before: a guide drawing mu of shape [3] for the scalar model site was accepted (TraceELBO
// loss 8.30 against 0.92: log p summed over three copies), or, with a plate downstream, the
// error blamed 'obs'; Pyro reports an invalid log_prob shape at 'mu'
describe('a guide value that does not fit its model site', () => {
  const wrongShape =
    /site 'mu': the guide's value has shape \[3\], which does not fit the model's batch shape \[\]/;
  it.each([
    ['TraceELBO', () => new ppl.TraceELBO()],
    ['TraceMeanFieldELBO', () => new ppl.TraceMeanFieldELBO()],
    ['TraceGraphELBO', () => new ppl.TraceGraphELBO()],
  ])('is an error naming the site (%s)', (_, make) => {
    const y1 = tf.scalar(1.5);
    const y4 = tf.ones([4]);
    const before = tf.memory().numTensors;
    expect(() => make().loss(model, wide, y1)).toThrow(wrongShape);
    expect(() => make().loss(inPlate, wide, y4)).toThrow(wrongShape);
    expect(tf.memory().numTensors).toBe(before);
    // the right guide: a value of the site's shape (or one that broadcasts into it)
    expect(Number.isFinite(make().loss(model, right, y1))).toBe(true);
    expect(Number.isFinite(make().loss(inPlate, right, y4))).toBe(true);
    tf.dispose([y1, y4]);
  });

  it('with vectorized particles too (the particle plate names the site)', () => {
    const y1 = tf.scalar(1.5);
    const y4 = tf.ones([4]);
    const e = (): ppl.TraceELBO => new ppl.TraceELBO({ numParticles: 2, vectorizeParticles: true });
    expect(() => e().loss(model, wide, y1)).toThrow(/site 'mu'/);
    expect(() => e().loss(inPlate, wide, y4)).toThrow(/site 'mu'/);
    expect(Number.isFinite(e().loss(inPlate, right, y4))).toBe(true);
    tf.dispose([y1, y4]);
  });

  it('is an error in SVI.step, before any update', () => {
    const y = tf.scalar(1.5);
    const svi = new ppl.SVI(model, wide, tf.train.adam(0.1), new ppl.TraceELBO());
    expect(() => svi.step(y)).toThrow(wrongShape);
    y.dispose();
  });

  it('allows a size-1 dim where the model site has the plate size', () => {
    const m = (): void => {
      ppl.plate('N', 4, () => ppl.sample('z', new D.Normal(0, 1)));
    };
    const g1 = (): void => {
      ppl.plate('N', 4, () => ppl.sample('z', new D.Normal(tf.zeros([1]), 1)));
    };
    const g5 = (): void => {
      ppl.sample('z', new D.Normal(tf.zeros([5, 4]), 1));
    };
    expect(Number.isFinite(new ppl.TraceELBO().loss(m, g1))).toBe(true);
    expect(() => new ppl.TraceELBO().loss(m, g5)).toThrow(
      /site 'z': .*shape \[5,4\].*size 5 at dim -2/,
    );
  });
});
