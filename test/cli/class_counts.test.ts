/**
 * `uncertainty` and `ensemble` on a model of another number of classes than its OOD set, and OOD
 * images of another size: the predictions are laid out by the model's classes (before: a 26-class
 * model against a 3-class OOD set failed with 'offset is out of bounds', an ensemble with
 * 'Operands could not be broadcast together with shapes 50,10 and 50,26'), and OOD images of
 * another size go through the same padding (before: refused as 'differ from mnist's').
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { idxDataset } from '../idx_fixture.js';

let out: string[] = [];
beforeEach(() => {
  out = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-classes-'));
const run = (...a: string[]): Promise<number> => main(['node', 'deepprob', ...a]);
const quick = ['--epochs', '1', '--batch-size', '16', '--mc-samples', '1', '--quiet'];

describe('class counts of the model, not of the OOD set', () => {
  it('uncertainty: a 26-class model against a 3-class OOD set of 16x16 images', async () => {
    const data = idxDataset({ count: 52, classes: 26 }, { count: 26, classes: 26 });
    const ood = idxDataset({ count: 6, classes: 3 }, { count: 6, classes: 3, height: 16 });
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
    const rep = join(tmp(), 'rep');
    // the test split is 12x12 (fixture default), the OOD set 16x16: both padded to 32x32
    expect(await run('uncertainty', '--checkpoint', dir, '--ood', `idx:${ood}`, '--out', rep)).toBe(
      0,
    );
    expect(readFileSync(join(rep, 'report.json'), 'utf8')).toMatch(/"accuracy"/);
  }, 120_000);

  it('ensemble: members of a 26-class model against Fashion-MNIST', async () => {
    const data = idxDataset({ count: 52, classes: 26 }, { count: 26, classes: 26 });
    const store = tmp();
    expect(
      await run(
        'ensemble',
        '--members',
        '2',
        '--model',
        'lenet5',
        '--dataset',
        'idx',
        '--data-dir',
        data,
        '--store',
        store,
        '--eval-limit',
        '20',
        '--json',
        ...quick,
      ),
    ).toBe(0);
    const agg = JSON.stringify(JSON.parse(out.at(-1) as string));
    expect(agg).toMatch(/"accuracy":/);
  }, 120_000);
});
