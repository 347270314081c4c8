/**
 * Audit 19, the property sweep, part 3 (second half): pathwise gradients of the second half of
 * the families of `sweep_cases.ts` with `rsample` against score-function estimates, and
 * `sample()` off the tape; see `rsample_sweep.ts` for the method.
 */
import { RSAMPLE_ROWS, SLOW, rsampleSweep } from './rsample_sweep.js';

const rows = RSAMPLE_ROWS.filter((r) => !SLOW.includes(r.name));
rsampleSweep(rows.slice(Math.ceil(rows.length / 2)), 12, 500);
