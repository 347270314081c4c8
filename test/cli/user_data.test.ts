/**
 * The CLI on a user's own IDX files: `--dataset idx` takes any number of classes (1 + the largest
 * label), non-contiguous labels and file names in another case, where `--dataset mnist` is ten
 * classes and names the dataset that takes others.
 */
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fileIO } from '../../src/utils/file_io.js';
import { idxBytes, idxDataset } from '../idx_fixture.js';

let out: string[] = [];
beforeEach(() => {
  out = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-userdata-'));
const run = (...a: string[]): Promise<number> => main(['node', 'deepprob', ...a]);
const quick = ['--epochs', '1', '--batch-size', '16', '--mc-samples', '1', '--quiet', '--json'];

/** The number of outputs of the saved model's last layer. */
function outputUnits(runDir: string): number {
  const m = JSON.parse(readFileSync(join(runDir, 'checkpoint', 'model.json'), 'utf8')) as {
    modelTopology: { config: { layers: { config: { units?: number } }[] } };
  };
  const layers = m.modelTopology.config.layers;
  return layers.at(-1)?.config.units ?? -1;
}

describe('CLI on a user IDX dataset', () => {
  it("--dataset idx / --data idx without --data-dir names --data-dir (it named the loader's dir)", async () => {
    vi.stubEnv('DEEPPROB_DATA_DIR', '');
    try {
      const expected = /data-dir: idx is not bundled: pass --data-dir <folder of its files>/;
      const ck = join(tmp(), 'model');
      const m = tf.sequential({
        layers: [tf.layers.flatten({ inputShape: [20, 20, 1] }), tf.layers.dense({ units: 3 })],
      });
      await m.save(fileIO(ck));
      m.dispose();
      await expect(run('score', '--checkpoint', ck, '--data', 'idx')).rejects.toThrow(expected);
      const trainOut = join(tmp(), 't');
      await expect(run('train', '--dataset', 'idx', '--out', trainOut, ...quick)).rejects.toThrow(
        expected,
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('--dataset idx trains and evaluates 26 classes (mnist refuses label 25 naming idx)', async () => {
    const data = idxDataset(
      { count: 52, height: 20, width: 20, classes: 26 },
      { count: 26, height: 20, width: 20, classes: 26 },
    );
    await expect(
      run('train', '--dataset', 'mnist', '--data-dir', data, '--out', join(tmp(), 'm'), ...quick),
    ).rejects.toThrow(/label 25 \(index 25\) out of range: mnist\/train has 10 classes.*'idx'/);
    const dir = join(tmp(), 'run');
    const args = ['train', '--model', 'lenet5', '--dataset', 'idx', '--data-dir', data];
    expect(await run(...args, '--out', dir, ...quick)).toBe(0);
    expect(outputUnits(dir)).toBe(26);
    out = [];
    expect(await run('eval', '--checkpoint', dir, '--json')).toBe(0);
    const r = JSON.parse(out.at(-1) as string) as { count: number; dataset: string };
    expect([r.count, r.dataset]).toEqual([26, 'idx/test']);
  }, 120_000);

  it('labels {0, 5, 9} give 10 classes; upper-case file names are found', async () => {
    const data = idxDataset({ count: 30, classes: 3 }, { count: 12, classes: 3 });
    // relabel 0, 1, 2 as 0, 5, 9 by rewriting the label files
    for (const [split, n] of [
      ['train', 30],
      ['t10k', 12],
    ] as const) {
      const labels = new Uint8Array(n).map((_, i) => [0, 5, 9][i % 3] as number);
      writeFileSync(join(data, `${split}-labels-idx1-ubyte`), idxBytes([n], labels));
      renameSync(
        join(data, `${split}-images-idx3-ubyte`),
        join(data, `${split}-images-idx3-ubyte`.toUpperCase()),
      );
    }
    const dir = join(tmp(), 'run');
    expect(
      await run(
        'train',
        '--model',
        'lenet5',
        '--dataset',
        'idx',
        '--data-dir',
        data,
        '--out',
        dir,
        ...quick,
      ),
    ).toBe(0);
    expect(outputUnits(dir)).toBe(10);
  }, 120_000);
});
