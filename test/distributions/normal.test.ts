import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import normalRef from '@stdlib/stats-base-dists-normal';
import { distributions, ArgumentError } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const { Normal, klDivergence, monteCarloKL } = distributions;

describe('Normal', () => {
  it('logProb and cdf match @stdlib', () => {
    const d = new Normal([0, 1.5], [1, 0.3]);
    const x = [0.7, 1.2];
    const lp = expectNoLeak(() => d.logProb(x));
    expect(lp).toBeAllclose([normalRef.logpdf(0.7, 0, 1), normalRef.logpdf(1.2, 1.5, 0.3)]);
    const c = d.cdf(x);
    expect(c).toBeAllclose([normalRef.cdf(0.7, 0, 1), normalRef.cdf(1.2, 1.5, 0.3)], {
      rtol: 1e-5,
    });
    c.dispose();
    d.dispose();
  });

  it('rejects a negative scale, naming the argument', () => {
    expect(() => new Normal(0, -1)).toThrow(ArgumentError);
    expect(() => new Normal(0, -1)).toThrow(/scale/);
    expect(() => new Normal([0, 0, 0], [1, 1])).toThrow(/loc\/scale/);
  });

  it('rejects every invalid value behind the fast screen, with the index of the first', () => {
    const big = (v: number, at: number): number[] =>
      Array.from({ length: 5000 }, (_, i) => (i === at ? v : 1));
    for (const [bad, at] of [
      [0, 4999],
      [-0.5, 17],
      [Infinity, 2500],
      [NaN, 0],
    ] as const) {
      expect(() => new Normal(0, big(bad, at))).toThrow(
        new RegExp(`scale.*got ${bad} at index ${at}`),
      );
    }
    expect(() => new Normal(big(NaN, 3), 1)).toThrow(/loc.*NaN at index 3/);
    expect(() => new Normal(big(-Infinity, 9), 1)).toThrow(/loc.*-Infinity at index 9/);
    const ok = new Normal(big(-3e38, 1), big(1e-38, 2));
    ok.dispose();
  });

  it('analytic KL matches Monte Carlo', () => {
    const p = new Normal(0.3, 0.8);
    const q = new Normal(-0.5, 1.7);
    const kl = klDivergence(p, q);
    const mc = monteCarloKL(p, q, { numSamples: 200000, seed: 1 });
    expect(mc).toBeAllclose(kl, { rtol: 0.02, atol: 0.005 });
    tf.dispose([kl, mc]);
    p.dispose();
    q.dispose();
  });
});
