/**
 * `deepprob shift`'s ensembles: a member with Bayesian layers samples its posterior (ceil(S/M)
 * draws), a plain member gives its one prediction. Seen through the mutual information: an
 * ensemble of one plain net has none (OOD AUROC of MI exactly 1/2), an ensemble of one Bayesian
 * net has some.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runTraining, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { parseMethodSpec, runShiftBenchmark } from '../../src/app/shift/run.js';

describe('shift: ensembles of Bayesian members', () => {
  it('sample each member; plain members stay deterministic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-shift-ens-'));
    const quiet = { quiet: true };
    const tiny = { ...TRAIN_DEFAULTS, epochs: 1, limit: 128, testLimit: 20, batchSize: 32 };
    for (const [model, out] of [
      ['bayes-lenet5', 'b'],
      ['lenet5', 'p'],
    ] as const) {
      const r = await runTraining({ ...tiny, model, out: join(dir, out) }, quiet);
      r.model.dispose();
    }
    const before = tf.memory().numTensors;
    const res = await runShiftBenchmark({
      methods: [
        parseMethodSpec(`eb=ensemble:${join(dir, 'b')}`),
        parseMethodSpec(`ep=ensemble:${join(dir, 'p')}`),
      ],
      limit: 40,
      calibrationSize: 20,
      mcSamples: 4,
      families: ['rotation'],
      angles: [45],
      ood: ['uniform-noise'],
      out: join(dir, 'shift'),
      log: () => undefined,
    });
    expect(tf.memory().numTensors).toBe(before);
    const mi = (m: string): number =>
      (res.result.ood.find((o) => o.method === m) as { aurocMI: number }).aurocMI;
    expect(mi('ep')).toBe(0.5);
    expect(mi('eb')).not.toBe(0.5);
    for (const r of res.result.rows) expect(r.nllBestT).toBeLessThanOrEqual(r.nll + 1e-12);
  }, 120_000);
});
