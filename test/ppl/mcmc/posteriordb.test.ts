import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MCMC, NUTS } from '../../../src/ppl/mcmc/index.js';
import { arK, compare, eightSchoolsNoncentered } from './posteriordb_models.js';

/*
 * The quick member of the posteriordb suite (the full protocol, 4 posteriors with 1000 warmup +
 * 1000 draws each, is `npm run test:posteriordb`; results in docs/posteriordb.md): eight schools
 * non-centred with 300 + 300 iterations, so the tolerances are wider than the full run's
 * (0.2 sd / 20 %): means within 0.3 reference sd, sds within 30 %. arK runs the full protocol
 * (cheap since the potential is recorded and replayed).
 */
describe('NUTS vs posteriordb (Stan reference posterior)', () => {
  it('eight_schools_noncentered: means and sds of mu, tau and theta', async () => {
    const p = eightSchoolsNoncentered();
    const mcmc = new MCMC(new NUTS(p.model), {
      numSamples: 300,
      warmupSteps: 300,
      seed: 1,
      progressBar: false,
    });
    await mcmc.run();
    const s = mcmc.getSamples();
    const rows = compare(p, s);
    tf.dispose(Object.values(s));
    p.dispose();
    expect(rows.map((r) => r.param).sort()).toEqual(
      ['mu', 'tau', ...Array.from({ length: 8 }, (_, i) => `theta[${i + 1}]`)].sort(),
    );
    for (const r of rows) {
      expect(r.zMean, `${r.param} mean ${r.mean} vs ${r.refMean}`).toBeLessThan(0.3);
      expect(Math.abs(r.sdRatio - 1), `${r.param} sd ${r.sd} vs ${r.refSd}`).toBeLessThan(0.3);
    }
    expect(mcmc.numDivergences).toBeLessThan(10);
  }, 600_000);

  it('arK (AR(5)): the full protocol, 1000 warmup + 1000 draws, means within 0.2 sd, sds within 20 %', async () => {
    const p = arK();
    const mcmc = new MCMC(new NUTS(p.model), {
      numSamples: 1000,
      warmupSteps: 1000,
      seed: 0,
      progressBar: false,
    });
    await mcmc.run();
    expect(mcmc.getExtraFields()[0]?.compiled).toBe(true);
    const s = mcmc.getSamples();
    const rows = compare(p, s);
    tf.dispose(Object.values(s));
    p.dispose();
    expect(rows.map((r) => r.param).sort()).toEqual(
      ['alpha', 'sigma', ...Array.from({ length: 5 }, (_, i) => `beta[${i + 1}]`)].sort(),
    );
    for (const r of rows) {
      expect(r.zMean, `${r.param} mean ${r.mean} vs ${r.refMean}`).toBeLessThan(0.2);
      expect(Math.abs(r.sdRatio - 1), `${r.param} sd ${r.sd} vs ${r.refSd}`).toBeLessThan(0.2);
    }
  }, 600_000);
});
