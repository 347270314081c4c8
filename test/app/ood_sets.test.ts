/**
 * OOD sets that are not bundled (#17: "KMNIST when present"): `name:DIR` on the command line,
 * or the data root `$DEEPPROB_DATA_DIR/<name>`; `deepprob shift` adds KMNIST to its default OOD
 * sets when its files are there. Files are written by the test (KMNIST's IDX layout).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { runTraining, runUncertaintyReport, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { parseMethodSpec, runShiftBenchmark } from '../../src/app/shift/run.js';
import { parseDatasetSpec } from '../../src/data/files.js';
import { loadKmnist } from '../../src/data/sources.js';
import { writeSplit } from '../idx_fixture.js';

const ENV = 'DEEPPROB_DATA_DIR';
const saved = process.env[ENV];
afterEach(() => {
  if (saved === undefined) delete process.env[ENV];
  else process.env[ENV] = saved;
});

/** A data root holding `kmnist/` with a 28x28 test split of 60 images. */
function dataRoot(): { root: string; kmnist: string } {
  const root = mkdtempSync(join(tmpdir(), 'deepprob-data-'));
  const kmnist = join(root, 'kmnist');
  mkdirSync(kmnist);
  writeSplit(kmnist, 't10k', { count: 60, height: 28, width: 28 }, 7);
  return { root, kmnist };
}

describe('dataset specs on the command line', () => {
  it('name or name:DIR, checked before any work, naming the option', () => {
    delete process.env[ENV];
    const { root, kmnist } = dataRoot();
    expect(parseDatasetSpec('fashion-mnist', 'ood')).toEqual({ name: 'fashion-mnist' });
    expect(parseDatasetSpec(`kmnist:${kmnist}`, 'ood')).toEqual({ name: 'kmnist', dir: kmnist });
    expect(parseDatasetSpec('uniform-noise', 'ood', ['uniform-noise'])).toEqual({
      name: 'uniform-noise',
    });
    expect(() => parseDatasetSpec('nope', 'ood')).toThrow(/ood: expected one of .*got 'nope'/);
    expect(() => parseDatasetSpec('kmnist', 'ood')).toThrow(
      /ood: kmnist is not bundled: pass kmnist:DIR .*DEEPPROB_DATA_DIR\/kmnist/,
    );
    expect(() => parseDatasetSpec('kmnist:/no/such/dir', 'ood')).toThrow(/is not a directory/);
    expect(() => parseDatasetSpec(`uniform-noise:${root}`, 'ood', ['uniform-noise'])).toThrow(
      /takes no folder/,
    );
    process.env[ENV] = root;
    expect(parseDatasetSpec('kmnist', 'ood')).toEqual({ name: 'kmnist' });
    const set = loadKmnist({ split: 'test' });
    expect([set.count, set.height, set.width]).toEqual([60, 28, 28]);
  });

  it('deepprob shift and uncertainty read KMNIST from name:DIR or the data root', async () => {
    delete process.env[ENV];
    const { root, kmnist } = dataRoot();
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-ood-'));
    const tiny = { ...TRAIN_DEFAULTS, epochs: 1, limit: 128, testLimit: 20, batchSize: 32 };
    const r = await runTraining({ ...tiny, model: 'lenet5', out: join(dir, 'p') }, { quiet: true });
    r.model.dispose();
    const before = tf.memory().numTensors;
    const shift = (ood: string[] | undefined, out: string) =>
      runShiftBenchmark({
        methods: [parseMethodSpec(`plain:${join(dir, 'p')}`)],
        limit: 40,
        calibrationSize: 20,
        families: ['rotation'],
        angles: [45],
        ...(ood !== undefined ? { ood } : {}),
        out: join(dir, out),
        log: () => undefined,
      });
    const named = await shift([`kmnist:${kmnist}`, 'uniform-noise'], 's1');
    expect(named.result.ood.map((o) => o.dataset)).toEqual(['kmnist', 'uniform-noise']);
    // the default: KMNIST only when the data root has it
    process.env[ENV] = root;
    const withRoot = await shift(undefined, 's2');
    expect(withRoot.result.ood.map((o) => o.dataset)).toEqual([
      'fashion-mnist',
      'kmnist',
      'uniform-noise',
    ]);
    delete process.env[ENV];
    const without = await shift(undefined, 's3');
    expect(without.result.ood.map((o) => o.dataset)).toEqual(['fashion-mnist', 'uniform-noise']);
    await expect(shift(['kmnist'], 's4')).rejects.toThrow(/ood: kmnist is not bundled/);
    const rep = await runUncertaintyReport({
      checkpoint: join(dir, 'p'),
      ood: `kmnist:${kmnist}`,
      limit: 30,
      out: join(dir, 'u'),
      log: () => undefined,
    });
    expect(rep.report.scores.length).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  }, 180_000);
});
