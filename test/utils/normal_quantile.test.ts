import normal from '@stdlib/stats-base-dists-normal';
import quantileRef from '@stdlib/stats-base-dists-normal-quantile';
import { describe, expect, it } from 'vitest';
import { normalQuantile } from '../../src/utils/normal_quantile.js';

describe('normalQuantile (AS 241)', () => {
  it('matches @stdlib over the central region', () => {
    const ps: number[] = [];
    for (let i = 1; i < 1000; i++) ps.push(i / 1000);
    ps.push(0.075, 0.925, 0.0749, 0.9251, 1e-8, 1 - 1e-8, 1e-6, 0.5);
    for (const p of ps) {
      const ref = quantileRef(p, 0, 1);
      expect(Math.abs(normalQuantile(p) - ref), `p = ${p}`).toBeLessThanOrEqual(
        1e-10 * Math.max(1, Math.abs(ref)),
      );
    }
  });

  it('inverts the normal cdf far into the tails (p down to 1e-300)', () => {
    for (let e = 8; e <= 300; e += 4) {
      const p = 10 ** -e;
      const back = normal.cdf(normalQuantile(p), 0, 1);
      expect(Math.abs(back - p) / p, `p = 1e-${e}`).toBeLessThan(1e-12);
    }
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 13);
  });

  it('is the inverse of the normal cdf and scales by mu, sigma', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 14);
    expect(normalQuantile(0.5, 3, 2)).toBe(3);
    expect(normalQuantile(0.975, 3, 2)).toBeCloseTo(3 + 2 * 1.959963984540054, 13);
  });

  it('gives the limits at 0 and 1 and NaN outside [0, 1]', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.1)).toBeNaN();
    expect(normalQuantile(NaN)).toBeNaN();
  });
});
