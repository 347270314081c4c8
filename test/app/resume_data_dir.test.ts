/**
 * A run's `--data-dir` is saved as an absolute path (a relative one broke `eval` and `--resume`
 * run from another directory), and `--resume --data-dir <new>` reads a run's data from where it
 * is now (it was refused as a differing option, so a run whose data moved could not go on).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTraining, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { quietProgress } from '../../src/train/progress.js';
import { idxDataset } from '../idx_fixture.js';

describe('train --data-dir', () => {
  it('saves the folder absolute and resumes from a folder the data moved to', async () => {
    const data = idxDataset({ count: 64 }, { count: 16 });
    const out = join(mkdtempSync(join(tmpdir(), 'deepprob-datadir-')), 'run');
    const tiny = { ...TRAIN_DEFAULTS, model: 'lenet5', batchSize: 32, inputSize: 16 };
    const rel = relative(process.cwd(), data);
    expect(rel.startsWith('/')).toBe(false);
    const first = await runTraining({ ...tiny, epochs: 1, dataDir: rel, out }, { quiet: true });
    first.model.dispose();
    const state = (): { config: { dataDir?: string; epochs: number } } =>
      JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')) as {
        config: { dataDir?: string; epochs: number };
      };
    expect(state().config.dataDir).toBe(data);
    // the data moves: the saved folder is gone, the typed one is where it is now
    const moved = mkdtempSync(join(tmpdir(), 'deepprob-moved-'));
    cpSync(data, moved, { recursive: true });
    rmSync(data, { recursive: true });
    await expect(
      runTraining({ ...tiny, epochs: 2, out }, { quiet: true, resume: true, explicit: ['epochs'] }),
    ).rejects.toThrow(/data-dir/);
    const lines: string[] = [];
    const more = await runTraining(
      { ...tiny, epochs: 2, dataDir: moved, out },
      {
        resume: true,
        explicit: ['epochs', 'dataDir', 'out'],
        log: (l) => lines.push(l),
        progress: quietProgress(),
      },
    );
    more.model.dispose();
    expect(more.records.length).toBe(2);
    expect(lines.join('\n')).toContain(`read from ${moved}`);
    expect(state().config.dataDir).toBe(moved);
    expect(state().config.epochs).toBe(2);
  }, 120_000);
});
