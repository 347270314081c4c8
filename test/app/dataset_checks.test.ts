/**
 * Dataset checks before training (#16): bad geometry, empty splits, count and label mismatches
 * in IDX files the test writes, and data that does not fit a resumed model, each refused before
 * the first step with an error naming the file (or option) and what was expected.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkSetsAgainstModel, runTraining, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { loadDataset } from '../../src/data/files.js';
import { idxDataset, writeSplit, type SplitSpec } from '../idx_fixture.js';

function run(dataDir: string, out = mkdtempSync(join(tmpdir(), 'deepprob-run-')), resume = false) {
  return runTraining(
    {
      ...TRAIN_DEFAULTS,
      model: 'lenet5',
      dataset: 'mnist',
      dataDir,
      out,
      epochs: 1,
      batchSize: 32,
      limit: 32,
      mcSamples: 1,
    },
    { quiet: true, ...(resume ? { resume: true } : {}) },
  );
}

const cases: [string, SplitSpec, SplitSpec, RegExp][] = [
  [
    '0x0 training images',
    { count: 8, height: 0, width: 0 },
    { count: 8 },
    /^data-dir: .*train-images-idx3-ubyte.*expected training images of at least 1x1 pixels.*got 0x0x1/,
  ],
  [
    '0x0 test images',
    { count: 8 },
    { count: 8, height: 0, width: 0 },
    /^data-dir: .*t10k-images-idx3-ubyte.*expected test images of at least 1x1/,
  ],
  [
    'empty training split',
    { count: 0 },
    { count: 8 },
    /^data-dir: .*train-images-idx3-ubyte.*the training split holds no images/,
  ],
  [
    'empty test split',
    { count: 8 },
    { count: 0 },
    /^data-dir: .*t10k-images.*the test split holds no images/,
  ],
  [
    'test images of another size',
    { count: 8 },
    { count: 8, height: 10, width: 10 },
    /^data-dir: .*t10k-images-idx3-ubyte.*expected test images of the training images' size 12x12.*got 10x10/,
  ],
  [
    '3-channel training vs 1-channel test',
    { count: 8, channels: 3 },
    { count: 8 },
    /^data-dir: .*t10k-images.*expected test images with the training images' 3 channel\(s\).*got 1/,
  ],
  [
    'fewer labels than images',
    { count: 8, labels: 7 },
    { count: 8 },
    /train-labels-idx1-ubyte: has 7 labels but .*train-images-idx3-ubyte has 8 images/,
  ],
  [
    'a label out of range',
    { count: 8 },
    { count: 8, badLabel: 12 },
    /t10k-labels-idx1-ubyte: label 12 \(index 7\) out of range: mnist\/test has 10 classes, labels 0\.\.9; .*dataset .idx./,
  ],
];

describe('deepprob train checks the dataset before the first step', () => {
  for (const [what, train, test, msg] of cases) {
    it(`refuses ${what}, naming the file`, async () => {
      const dir = idxDataset(train, test);
      const out = mkdtempSync(join(tmpdir(), 'deepprob-run-'));
      await expect(run(dir, out)).rejects.toThrow(msg);
      expect(readdirSync(out)).toEqual([]); // no checkpoint, no metrics, lock released
    });
  }

  it('refuses data whose channels do not fit a resumed model', async () => {
    const dir = idxDataset();
    const out = mkdtempSync(join(tmpdir(), 'deepprob-run-'));
    const r = await run(dir, out);
    r.model.dispose();
    writeSplit(dir, 'train', { count: 96, channels: 3 });
    writeSplit(dir, 't10k', { count: 32, channels: 3 });
    await expect(run(dir, out, true)).rejects.toThrow(
      /^data-dir: the model expects inputs of shape \[32, 32, 1\], but the data .*train-images-idx3-ubyte.* gives \[32, 32, 3\]: 3 channel\(s\) instead of 1/,
    );
  });

  it('refuses labels beyond the model classes', () => {
    const dir = idxDataset();
    const set = loadDataset('mnist', { dir, split: 'test' });
    const model = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [12, 12, 1] }), tf.layers.dense({ units: 5 })],
    });
    expect(() => checkSetsAgainstModel(model, [12, 12, 1], [set])).toThrow(
      /^data-dir: .*t10k-images-idx3-ubyte.*expected labels in \[0, 5\) for the model's 5 classes, got 10 classes/,
    );
    expect(() => checkSetsAgainstModel(model, [10, 12, 1], [set])).toThrow(
      /^input-size: the model expects inputs of shape \[12, 12, 1\], but the data .* gives \[10, 12, 1\]$/,
    );
    model.dispose();
  });
});
