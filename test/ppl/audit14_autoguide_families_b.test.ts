/**
 * Audit (issue 14): every continuous family as a latent under AutoMultivariateNormal and
 * AutoLowRankMultivariateNormal (the sweep of `audit14_autoguide_sweep.ts`).
 */
import { describe } from 'vitest';
import { resetAfterEach, sweepGuides } from './audit14_autoguide_sweep.js';

resetAfterEach();
describe(
  'audit14: continuous families as latents (joint Gaussian guides)',
  { timeout: 300_000 },
  () => {
    sweepGuides(['AutoMultivariateNormal', 'AutoLowRankMultivariateNormal']);
  },
);
