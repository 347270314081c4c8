/**
 * Bijectors at inputs far from the origin (found by the distributions audit): round trips whose
 * float32 intermediates are close to the boundary of the codomain.
 */
import { describe, expect, it } from 'vitest';
import { bijectors, distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

describe('StickBreaking far from the uniform point', () => {
  it('inverse(forward(x)) returns x and the log-dets agree when y_0 rounds to 1', () => {
    const s = new bijectors.StickBreaking();
    const x = [
      [20, -20, 0],
      [10, -3, 5],
      [5, 5, 5],
    ];
    const back = expectNoLeak(() => {
      const y = s.forward(x);
      const r = s.inverse(y);
      y.dispose();
      return r;
    });
    // 1 - cumsum(y) gave [88.6, 48.6, 67.9], [10.0, -3.0, 4.93], [5, 5, 4.986]
    expect(back).toBeAllclose(x.flat(), { rtol: 1e-3, atol: 1e-3 });
    const fwd = expectNoLeak(() => s.forwardLogDetJacobian(x));
    const inv = expectNoLeak(() => {
      const y = s.forward(x);
      const r = s.inverseLogDetJacobian(y);
      y.dispose();
      return r;
    });
    expect(inv).toBeAllclose(
      fwd.map((v) => -v),
      { rtol: 1e-4, atol: 1e-3 },
    );
  });
});

describe('Sigmoid clamps its output to [tiny, 1 - eps] as Pyro', () => {
  it('keeps the inverse finite and a Beta density defined where sigma(x) rounds to 0 or 1', () => {
    const s = new bijectors.Sigmoid();
    const x = [20, 17, -100, 0, 3];
    const y = expectNoLeak(() => s.forward(x));
    // sigma(20) rounded to exactly 1 in float32 and sigma(-100) to 3.7e-44 (subnormal)
    expect(Math.max(...y)).toBeLessThan(1);
    expect(Math.min(...y)).toBeGreaterThanOrEqual(1.1754943508222875e-38);
    const back = expectNoLeak(() => {
      const t = s.forward(x);
      const r = s.inverse(t);
      t.dispose();
      return r;
    });
    // the interior round-trips; the clamped ends come back finite (1 - eps is logit 15.94)
    expect(back.every(Number.isFinite)).toBe(true);
    expect(back.slice(3)).toBeAllclose([0, 3], { atol: 1e-5 });
    expect(back[0]).toBeCloseTo(Math.log((1 - 2 ** -23) / 2 ** -23), 4);
    const beta = new distributions.Beta(2, 2);
    const lp = expectNoLeak(() => {
      const t = s.forward([20]);
      const r = beta.logProb(t);
      t.dispose();
      return r;
    });
    // was -Infinity: log(6 y (1 - y)) at y = 1 - 2^-23
    expect(lp[0]).toBeCloseTo(Math.log(6 * (1 - 2 ** -23) * 2 ** -23), 3);
  });
});
