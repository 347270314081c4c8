/**
 * `deepprob shift` reads its test and training images from the run's own data (the `--data-dir` its
 * first checkpoint was trained on); it read the bundled dataset of that name, so a run trained on a
 * user's folder was benchmarked on other images (or refused: another image size, or no files for
 * a user-supplied dataset such as KMNIST). A saved folder that is gone is named before any work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runTraining, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { parseMethodSpec, runShiftBenchmark } from '../../src/app/shift/run.js';
import { idxDataset } from '../idx_fixture.js';

describe('shift: the run data folder', () => {
  it("benchmarks on the run's --data-dir and names a saved folder that is gone", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-shift-data-'));
    const data = idxDataset(
      { count: 64, height: 16, width: 16 },
      { count: 30, height: 16, width: 16 },
    );
    const run = join(dir, 'p');
    const r = await runTraining(
      {
        ...TRAIN_DEFAULTS,
        model: 'lenet5',
        dataset: 'kmnist',
        dataDir: data,
        inputSize: 16,
        epochs: 1,
        batchSize: 32,
        out: run,
      },
      { quiet: true },
    );
    r.model.dispose();
    const opts = {
      methods: [parseMethodSpec(`plain:${run}`)],
      limit: 20,
      calibrationSize: 10,
      families: ['rotation' as const],
      angles: [45],
      ood: ['uniform-noise'],
      out: join(dir, 'shift'),
      log: () => undefined,
    };
    const before = tf.memory().numTensors;
    const res = await runShiftBenchmark(opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(res.result.rows.map((x) => `${x.family} ${x.level}`)).toEqual([
      'clean 0',
      'rotation 45',
    ]);
    // 20 + 10 = 30, all of the folder's test images: one more is refused by that count
    await expect(runShiftBenchmark({ ...opts, calibrationSize: 11 })).rejects.toThrow(
      /exceeds the 30 test images/,
    );
    rmSync(data, { recursive: true });
    await expect(runShiftBenchmark(opts)).rejects.toThrow(
      new RegExp(`checkpoint: '${data}', the data folder saved with ${run}, does not exist`),
    );
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
