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
import { checkConfig, TRAIN_DEFAULTS } from '../../src/app/run_config.js';
import { transformOf } from '../../src/app/run_data.js';
import { runTraining } from '../../src/app/train.js';
import { inputSizeOption } from '../../src/cli/options.js';
import { trainConfigOf } from '../../src/cli/train.js';
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
    ).rejects.toThrow(/checkpoint's sequential_\d+ takes 12x20 inputs .* the 20x12 images/);
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

  it('--input-size HxW trains a non-square model (was: a square side only)', async () => {
    expect(inputSizeOption('28')).toBe(28);
    expect(inputSizeOption(' 28x56 ')).toEqual([28, 56]);
    expect(inputSizeOption('20X24')).toEqual([20, 24]);
    expect(inputSizeOption('32x32')).toBe(32);
    expect(() => inputSizeOption('32x40x3')).toThrow(/height x width HxW .* got '32x40x3'/);
    expect(() => inputSizeOption('32x4')).toThrow(/integer in \[8, 512\], got '4'/);
    expect(() => inputSizeOption('axb')).toThrow(/got 'a'/);
    const data = idxDataset(
      { count: 16, height: 10, width: 16, classes: 3 },
      { count: 8, height: 10, width: 16, classes: 3 },
    );
    const out = join(mkdtempSync(join(tmpdir(), 'deepprob-hxw-')), 'run');
    const base = { ...TRAIN_DEFAULTS, model: 'lenet5', dataset: 'idx', dataDir: data, epochs: 1 };
    const cfg = trainConfigOf({ ...base, out, inputSize: [20, 24] });
    expect([cfg.inputSize, cfg.inputWidth]).toEqual([20, 24]);
    const before = tf.memory().numTensors;
    const r = await runTraining(cfg, { quiet: true });
    expect(r.model.inputs[0]?.shape).toEqual([null, 20, 24, 1]);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // resuming with another size names the flag and both sizes
    await expect(
      runTraining(
        { ...cfg, epochs: 2, inputWidth: 28 },
        { quiet: true, resume: true, explicit: ['inputSize', 'inputWidth'] },
      ),
    ).rejects.toThrow(/^input-size: .* whose input size is 20x24; got 20x28/);
  }, 60_000);
});
