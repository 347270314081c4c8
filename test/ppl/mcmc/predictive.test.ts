import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Normal } from '../../../src/distributions/index.js';
import { deterministic } from '../../../src/ppl/deterministic.js';
import { Predictive } from '../../../src/ppl/infer/predictive.js';
import { sample } from '../../../src/ppl/runtime.js';
import { setSeed } from '../../../src/utils/seed.js';

describe('Predictive from posterior samples', () => {
  const model = (): void => {
    const mu = sample('mu', new Normal(0, 1));
    deterministic('twice', tf.mul(mu, 2));
    sample('y', new Normal(mu, 0.01));
  };

  it('draw i runs the model conditioned on the i-th posterior value', () => {
    setSeed(0);
    const mu = tf.tensor1d([0, 10, 20]);
    const before = tf.memory().numTensors;
    const out = new Predictive(model, { posteriorSamples: { mu } }).call();
    expect(Object.keys(out).sort()).toEqual(['twice', 'y']);
    expect(out.y?.shape).toEqual([3]);
    expect(out.y).toBeAllclose([0, 10, 20], { atol: 0.05 });
    expect(out.twice).toBeAllclose([0, 20, 40]);
    const only = new Predictive(model, { posteriorSamples: { mu }, returnSites: ['y'] }).call();
    expect(Object.keys(only)).toEqual(['y']);
    tf.dispose([...Object.values(out), ...Object.values(only)]);
    expect(tf.memory().numTensors).toBe(before);
    mu.dispose();
  });

  it('rejects mismatched leading dimensions and a conflicting numSamples', () => {
    const a = tf.zeros([3]);
    const b = tf.zeros([4]);
    expect(() => new Predictive(model, { posteriorSamples: { mu: a, s: b } })).toThrow(
      /posteriorSamples/,
    );
    expect(() => new Predictive(model, { posteriorSamples: { mu: a }, numSamples: 5 })).toThrow(
      /numSamples/,
    );
    tf.dispose([a, b]);
  });
});
