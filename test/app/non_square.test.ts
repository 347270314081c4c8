/**
 * Non-square inputs: a user's saved model on `[H, W]` images with `H != W` is evaluated on its
 * own images as they are (before: `eval` said the checkpoint "takes 12x12 inputs" and refused the
 * 12x20 images, or with `--resize bilinear` squeezed them to 12x12 and then refused the shape),
 * and the minimum-size check of `checkConfig` looks at both sides.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runEvaluation } from '../../src/app/evaluate.js';
import { checkConfig, TRAIN_DEFAULTS, transformOf } from '../../src/app/run_config.js';
import { loadDataset } from '../../src/data/files.js';
import { fileIO } from '../../src/utils/file_io.js';
import { idxDataset } from '../idx_fixture.js';

describe('non-square inputs', () => {
  it("eval takes a model's 12x20 input as it is, and pads smaller images to it", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'deepprob-nonsquare-')), 'model');
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 20, 1], filters: 2, kernelSize: 3 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4 }),
      ],
    });
    await m.save(fileIO(dir));
    m.dispose();
    const wide = idxDataset(
      { count: 8, height: 12, width: 20, classes: 4 },
      { count: 8, height: 12, width: 20, classes: 4 },
    );
    const before = tf.memory().numTensors;
    const r = await runEvaluation(
      { checkpoint: dir, dataset: 'idx', dataDir: wide, mcSamples: 1 },
      { quiet: true },
    );
    expect(r.count).toBe(8);
    expect(tf.memory().numTensors).toBe(before);
    // 10x16 images are padded into the 12x20 input
    const small = idxDataset(
      { count: 8, height: 10, width: 16, classes: 4 },
      { count: 8, height: 10, width: 16, classes: 4 },
    );
    const p = await runEvaluation(
      { checkpoint: dir, dataset: 'idx', dataDir: small, mcSamples: 1 },
      { quiet: true },
    );
    expect(p.count).toBe(8);
    // 20x12 images do not fit: the error says 12x20, not 12x12
    const tall = idxDataset(
      { count: 8, height: 20, width: 12, classes: 4 },
      { count: 8, height: 20, width: 12, classes: 4 },
    );
    await expect(
      runEvaluation({ checkpoint: dir, dataset: 'idx', dataDir: tall }, { quiet: true }),
    ).rejects.toThrow(/takes 12x20 inputs .* the 20x12 images/);
  }, 60_000);

  it('transformOf pads to [inputSize, inputWidth]; checkConfig checks the width too', () => {
    const data = idxDataset({ count: 4, height: 10, width: 16 }, { count: 4 });
    const set = loadDataset('idx', { dir: data, split: 'train' });
    const cfg = { ...TRAIN_DEFAULTS, model: 'lenet5', dataset: 'idx', out: data };
    expect(transformOf({ ...cfg, inputSize: 20, inputWidth: 24 }, set).size).toEqual([20, 24]);
    expect(() => checkConfig({ ...cfg, inputSize: 32, inputWidth: 12 })).toThrow(
      /^input-size: lenet5 takes inputs of at least 16x16 .* got 32x12/,
    );
    expect(() => checkConfig({ ...cfg, inputSize: 32, inputWidth: 16 })).not.toThrow();
  });
});
