/**
 * `deepprob train --resume`: the saved configuration wins, so an option given on the command line
 * that differs from it is an error naming it (it was silently ignored), and without `--epochs` the
 * run keeps its own number of epochs (the resume command printed after Ctrl-C trained up to the
 * default 5 epochs of a 2-epoch run).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTraining, TRAIN_DEFAULTS } from '../../src/app/index.js';

describe('train --resume', () => {
  it('keeps the saved epochs without --epochs and refuses options that differ from the run', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'deepprob-resume-')), 'run');
    const tiny = { ...TRAIN_DEFAULTS, model: 'lenet5', limit: 128, testLimit: 32, batchSize: 64 };
    const quiet = { quiet: true };
    const first = await runTraining({ ...tiny, epochs: 1, out }, quiet);
    first.model.dispose();
    // a different lr on the command line: refused before any work
    await expect(
      runTraining(
        { ...tiny, epochs: 2, lr: 0.01, out },
        { ...quiet, resume: true, explicit: ['lr', 'epochs', 'out'] },
      ),
    ).rejects.toThrow(/lr: --resume continues the saved run, whose lr is 0.001; got 0.01/);
    // the same values are fine; without --epochs the saved 1 epoch stands (nothing more to train)
    const same = await runTraining(
      { ...tiny, epochs: 5, out },
      { ...quiet, resume: true, explicit: ['model', 'out'] },
    );
    expect(same.records.length).toBe(1);
    same.model.dispose();
    // --epochs 2 extends it
    const more = await runTraining(
      { ...tiny, epochs: 2, out },
      { ...quiet, resume: true, explicit: ['epochs', 'out'] },
    );
    expect(more.records.length).toBe(2);
    more.model.dispose();
  }, 120_000);
});
