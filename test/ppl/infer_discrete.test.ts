/**
 * `inferDiscrete` (Pyro's `infer_discrete`): its randomness comes from the enclosing `seed`
 * handler, a subsampled plate visits the same members in every internal run, and it leaks no
 * tensors, also when the model throws. References: the closed-form argmax of a two-component
 * mixture per datum.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Bernoulli, Normal } from '../../src/distributions/index.js';
import { plate } from '../../src/ppl/handlers/plate.js';
import { seed } from '../../src/ppl/handlers/seed.js';
import { trace } from '../../src/ppl/handlers/trace.js';
import { inferDiscrete } from '../../src/ppl/infer/infer_discrete.js';
import { sample } from '../../src/ppl/runtime.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => clearSeed());

const LOGIT = 0.4; // prior log-odds of z = 1
/** 40 data alternating around the two component means -1.5 and 1.5 (distinct values). */
const YS = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? -1 : 1) * (0.1 + 0.07 * i));
/** `z_i = 1` is the argmax of `p(z_i | y_i, shift)` for the mixture below. */
const argmaxOne = (y: number, shift: number): number => {
  const l1 = LOGIT - 0.5 * (y - (1.5 + shift)) ** 2;
  const l0 = -0.5 * (y - (-1.5 + shift)) ** 2;
  return l1 > l0 ? 1 : 0;
};

/**
 * A mixture with a latent continuous shift, a per-datum assignment and a per-datum continuous
 * jitter, optionally over a random subsample of the data.
 */
function mixture(subsampleSize?: number): () => void {
  const data = tf.tensor1d(YS);
  return () => {
    const shift = sample('shift', new Normal(0, 0.3));
    plate('data', YS.length, subsampleSize === undefined ? {} : { subsampleSize }, (idx) => {
      const z = sample('z', new Bernoulli({ logits: LOGIT }));
      const loc = tf.add(tf.sub(tf.mul(z, 3), 1.5), shift);
      sample('jitter', new Normal(0, 1));
      sample('y', new Normal(loc, 1), { obs: tf.gather(data, idx) });
    });
  };
}

/** The values of a trace's sites, by name. */
function values(tr: ReturnType<ReturnType<typeof trace>['getTrace']>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of tr.sites()) if (s.value !== null) out[s.name] = Array.from(s.value.dataSync());
  return out;
}

describe('inferDiscrete', () => {
  it('draws from the enclosing seed handler: seed(inferDiscrete(model), s) repeats its draws whatever the global stream, and another seed gives others', () => {
    const model = mixture(12);
    const before = tf.memory().numTensors;
    const run = (rngSeed: number, globalSeed: number): Record<string, number[]> => {
      setSeed(globalSeed);
      const tr = trace(seed(inferDiscrete(model), rngSeed)).getTrace();
      const v = values(tr);
      tr.dispose();
      return v;
    };
    const a = run(0, 1);
    const b = run(0, 2);
    expect(b).toEqual(a);
    const c = run(5, 1);
    expect(c['shift']).not.toEqual(a['shift']);
    expect(c['z']).not.toEqual(a['z']);
    // without a seed handler the global stream decides
    setSeed(3);
    const tr1 = trace(inferDiscrete(model)).getTrace();
    setSeed(3);
    const tr2 = trace(inferDiscrete(model)).getTrace();
    expect(values(tr2)).toEqual(values(tr1));
    tr1.dispose();
    tr2.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a random subsample plate draws its members once: each assignment is the argmax for the datum its member holds', () => {
    const model = mixture(10);
    const before = tf.memory().numTensors;
    setSeed(8);
    let bad = 0;
    for (let r = 0; r < 15; r++) {
      const tr = trace(inferDiscrete(model, { temperature: 0 })).getTrace();
      const idx = Array.from(tr.get('data')!.value!.dataSync());
      const z = Array.from(tr.value('z').dataSync());
      const y = Array.from(tr.value('y').dataSync());
      const shift = tr.value('shift').dataSync()[0]!;
      expect(z.length).toBe(10);
      idx.forEach((i, m) => {
        expect(y[m]).toBeCloseTo(YS[i]!, 6); // the observed data are the members'
        if (z[m] !== argmaxOne(YS[i]!, shift)) bad++;
      });
      tr.dispose();
    }
    expect(bad).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaks no tensors when the model throws in any of its runs', () => {
    const before = tf.memory().numTensors;
    for (const failAt of [1, 2, 3]) {
      let calls = 0;
      const model = (): void => {
        // thrown before the model makes a tensor of its own: what is left is inferDiscrete's
        if (++calls === failAt) throw new Error(`boom ${calls}`);
        sample('mu', new Normal(0, 1));
        plate('data', 5, { subsampleSize: 3 }, () => {
          sample('z', new Bernoulli({ probs: 0.3 }));
        });
      };
      expect(() => inferDiscrete(model)()).toThrow(`boom ${failAt}`);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
