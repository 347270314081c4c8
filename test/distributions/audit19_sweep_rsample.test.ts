/**
 * Audit 19, the property sweep, part 3: pathwise gradients of the first half of the families of
 * `sweep_cases.ts` with `rsample` (the second half in `audit19_sweep_rsample_b.test.ts`, the slow
 * ones in `audit19_sweep_rsample_slow.test.ts`) against score-function estimates, and `sample()`
 * off the tape; see `rsample_sweep.ts` for the method.
 */
import { RSAMPLE_ROWS, SLOW, rsampleSweep } from './rsample_sweep.js';

const rows = RSAMPLE_ROWS.filter((r) => !SLOW.includes(r.name));
rsampleSweep(rows.slice(0, Math.ceil(rows.length / 2)), 12, 500);
