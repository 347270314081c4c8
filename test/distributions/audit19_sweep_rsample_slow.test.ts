/**
 * Audit 19, the property sweep, part 3b: the pathwise-gradient sweep of `rsample_sweep.ts` for
 * the families whose draws or densities are slow (a numerical-integral density, an
 * inverse-CDF truncation), with fewer draws.
 */
import { RSAMPLE_ROWS, SLOW, rsampleSweep } from './rsample_sweep.js';

rsampleSweep(
  RSAMPLE_ROWS.filter((r) => SLOW.includes(r.name)),
  6,
  200,
);
