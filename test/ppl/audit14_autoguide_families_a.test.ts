/**
 * Audit (issue 14): every continuous family as a latent under AutoNormal, AutoDelta and
 * AutoDiagonalNormal (the sweep of `audit14_autoguide_sweep.ts`).
 */
import { describe } from 'vitest';
import { resetAfterEach, sweepGuides } from './audit14_autoguide_sweep.js';

resetAfterEach();
describe(
  'audit14: continuous families as latents (mean-field guides)',
  { timeout: 300_000 },
  () => {
    sweepGuides(['AutoNormal', 'AutoDelta', 'AutoDiagonalNormal']);
  },
);
