/**
 * Audit 18: a `maxPlateNesting` too small for the model's plates under enumeration is a clear
 * `ArgumentError` naming it and the plate (before: a shape error at the enumerated site, or a
 * plate's members silently read as the values of an enumerated site at the same dim).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';

const noGuide = (): void => undefined;
const ENUM = { infer: { enumerate: 'parallel' as const } };

describe('maxPlateNesting under enumeration', () => {
  it('maxPlateNesting too small: a clear error', () => {
    const model = (): void => {
      ppl.plate('a', 2, { dim: -1 }, () => {
        ppl.plate('b', 3, { dim: -2 }, () => {
          const z = ppl.sample('z', new D.Bernoulli(0.3), ENUM);
          ppl.sample('y', new D.Normal(z, 1), { obs: tf.zeros([3, 2]) });
        });
      });
    };
    const before = tf.memory().numTensors;
    const run = (): unknown => new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(model, noGuide);
    expect(run).toThrow(ArgumentError);
    expect(run).toThrow(/maxPlateNesting.*plate 'b' at dim -2.*at least 2/);
    expect(tf.memory().numTensors).toBe(before);
    // a global enumerated site and a plate at its dim: also refused (the plate's members would
    // be read as its values)
    const collide = (): void => {
      const g = ppl.sample('g', new D.Bernoulli(0.3), ENUM);
      ppl.plate('b', 2, { dim: -2 }, () => {
        ppl.sample('y', new D.Normal(g, 1), { obs: tf.zeros([2, 1]) });
      });
    };
    const run2 = (): unknown =>
      new ppl.TraceEnumELBO({ maxPlateNesting: 1 }).loss(collide, noGuide);
    expect(run2).toThrow(/maxPlateNesting/);
    // and inferDiscrete
    const run3 = (): unknown => ppl.inferDiscrete(model, { maxPlateNesting: 1 })();
    expect(run3).toThrow(/maxPlateNesting/);
  });
});
