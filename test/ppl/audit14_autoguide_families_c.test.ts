/**
 * Audit (issue 14): every continuous family as a latent inside a plate (the plate broadcasts its
 * scalar-batch version) under AutoNormal and AutoDiagonalNormal (`audit14_autoguide_sweep.ts`).
 */
import { describe } from 'vitest';
import { resetAfterEach, sweepInPlate } from './audit14_autoguide_sweep.js';

resetAfterEach();
describe('audit14: continuous families as latents inside a plate', { timeout: 300_000 }, () => {
  sweepInPlate(['AutoNormal', 'AutoDiagonalNormal']);
});
