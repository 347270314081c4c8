/**
 * posteriordb's eight schools (non-centred) with the gradient-based `BarkerMH` and the gradient-free
 * ensemble slice sampler `ESS` against Stan's reference posterior: means within 0.3 reference sd,
 * sds within 30 % (the quick protocol of `posteriordb.test.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BarkerMH, ESS, MCMC, type MCMCOptions } from '../../../src/ppl/mcmc/index.js';
import type { HamiltonianKernel } from '../../../src/ppl/mcmc/kernel.js';
import { compare, eightSchoolsNoncentered } from './posteriordb_models.js';

const CASES: [string, (m: () => void) => HamiltonianKernel, Partial<MCMCOptions>][] = [
  ['BarkerMH', (m) => new BarkerMH(m), { numSamples: 3000, warmupSteps: 1000, numChains: 2 }],
  [
    'ESS',
    (m) => new ESS(m),
    { numSamples: 400, warmupSteps: 300, numChains: 20, chainMethod: 'vectorized' },
  ],
];

describe.each(CASES)('%s vs posteriordb eight_schools_noncentered', (_, make, o) => {
  it('means and sds of mu, tau and theta', () => {
    const p = eightSchoolsNoncentered();
    const mcmc = new MCMC(make(p.model), {
      numSamples: 300,
      seed: 1,
      progressBar: false,
      ...o,
    });
    mcmc.runSync();
    const s = mcmc.getSamples();
    const rows = compare(p, s);
    tf.dispose(Object.values(s));
    p.dispose();
    expect(rows.length).toBe(10);
    for (const r of rows) {
      expect(r.zMean, `${r.param} mean ${r.mean} vs ${r.refMean}`).toBeLessThan(0.3);
      expect(Math.abs(r.sdRatio - 1), `${r.param} sd ${r.sd} vs ${r.refSd}`).toBeLessThan(0.3);
    }
  }, 120_000);
});
