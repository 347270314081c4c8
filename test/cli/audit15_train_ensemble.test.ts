/**
 * Audit (issue 17): `deepprob train --ensemble N` trains N members in OUT/member-<i> seeded
 * `seed + i - 1`: their saved configurations carry those seeds, their weights differ, and the
 * printed `deepprob shift` command names every member.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { openRun } from '../../src/app/open_run.js';
import { disposeModel } from '../../src/layers/dispose_model.js';
import { runCli } from '../faults/cli_runner.js';

describe('audit15 deepprob train --ensemble', () => {
  it('members seeded seed + i - 1 in member-<i>, different weights, the shift command printed', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'deepprob-audit15-ens-')), 'ens');
    const r = await runCli([
      'train',
      '--model',
      'lenet5',
      '--epochs',
      '1',
      '--limit',
      '32',
      '--test-limit',
      '8',
      '--batch-size',
      '16',
      '--seed',
      '5',
      '--ensemble',
      '2',
      '--quiet',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`ens=ensemble:${out}/member-1,${out}/member-2`);
    const runs = await Promise.all([1, 2].map((i) => openRun(join(out, `member-${i}`))));
    expect(runs.map((x) => x.config.seed)).toEqual([5, 6]);
    const w = runs.map((x) => Array.from((x.model.getWeights()[0] as tf.Tensor).dataSync()));
    expect(w[0]).not.toEqual(w[1]);
    runs.forEach((x) => disposeModel(x.model));
  }, 120_000);
});
