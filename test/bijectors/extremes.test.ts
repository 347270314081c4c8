/**
 * Bijectors at inputs far from the origin (found by the distributions audit): round trips whose
 * float32 intermediates are close to the boundary of the codomain.
 */
import { describe, expect, it } from 'vitest';
import { bijectors } from '../../src/index.js';
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
