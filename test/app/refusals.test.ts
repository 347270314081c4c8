/**
 * Refusals before any work (#16): `convert --out` equal to the source model's folder (also
 * through a symlink or another spelling of the same real path), `train --resume` on a folder that does not exist
 * (not created), and `restoreModes` without its modes.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkConvertOut, convertFile, runTraining, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { DenseReparam, restoreModes, setMode } from '../../src/layers/index.js';
import { fileIO } from '../../src/utils/file_io.js';

async function savedDnn(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'deepprob-src-'));
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
  await m.save(fileIO(dir));
  m.dispose();
  return dir;
}

describe('convert --out in the source folder is refused', () => {
  it('equal, via a symlink or a relative spelling; another folder or a subfolder is fine', async () => {
    const src = await savedDnn();
    const model = join(src, 'model.json');
    const before = readFileSync(model, 'utf8');
    const link = `${src}-link`;
    symlinkSync(src, link);
    const cases = [
      src,
      `${src}/`,
      link,
      `${link}/`,
      join(src, 'sub', '..'),
      join(src, '..', src.split('/').at(-1) as string),
    ];
    for (const out of cases) {
      await expect(
        convertFile({ model, out, layers: 'all', estimator: 'reparam', init: 'dnn' }),
        out,
      ).rejects.toThrow(/^out: .* source model/);
      expect(checkConvertOut.bind(null, model, out), out).toThrow(
        /is the folder of the source model/,
      );
    }
    expect(readFileSync(model, 'utf8')).toBe(before);
    const other = `${src}-bnn`;
    expect(() => checkConvertOut(model, other)).not.toThrow();
    expect(() => checkConvertOut(model, join(src, '..'))).not.toThrow();
    // a subfolder holds other files: allowed
    expect(() => checkConvertOut(model, join(src, 'bnn'))).not.toThrow();
    expect(() => checkConvertOut(model, join(link, 'bnn'))).not.toThrow();
  });
});

describe('train --resume on a missing folder', () => {
  it('refuses without creating the folder', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'deepprob-resume-')), 'new-run');
    await expect(
      runTraining(
        { ...TRAIN_DEFAULTS, model: 'lenet5', out, epochs: 1 },
        { resume: true, quiet: true },
      ),
    ).rejects.toThrow(/^resume: .*does not exist.*--resume-or-start/);
    expect(existsSync(out)).toBe(false);
    mkdirSync(out);
    await expect(
      runTraining(
        { ...TRAIN_DEFAULTS, model: 'lenet5', out, epochs: 1 },
        { resume: true, quiet: true },
      ),
    ).rejects.toThrow(/^resume: no checkpoint in/);
  });
});

describe('restoreModes', () => {
  it('names modes when they are missing or wrong', () => {
    const m = tf.sequential({ layers: [new DenseReparam({ inputShape: [3], outChannels: 2 })] });
    const prev = setMode(m, 'mean');
    expect(() => restoreModes(m, undefined as unknown as [])).toThrow(/^modes: expected the array/);
    expect(() => restoreModes(m, ['x'] as unknown as [])).toThrow(
      /^modes: expected 'sample' or 'mean' at index 0/,
    );
    expect(() => restoreModes(m, [])).toThrow(/^modes: expected 1 modes/);
    restoreModes(m, prev);
    m.dispose();
  });
});
