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
import { readFileSync } from 'node:fs';
import { runTraining, TRAIN_DEFAULTS, withModelRecipe } from '../../src/app/index.js';
import { BAYES_LENET5_RECIPE } from '../../src/models/registry.js';
import { quietProgress } from '../../src/train/progress.js';

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

  it('extending a recipe run keeps its saved lr decay and says where it takes the rate', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'deepprob-resume-')), 'run');
    // without TRAIN_DEFAULTS' lr, so that the recipe's is used, as on the command line
    const { lr, ...defaults } = TRAIN_DEFAULTS;
    void lr;
    const tiny = {
      ...defaults,
      model: 'bayes-lenet5',
      limit: 64,
      testLimit: 16,
      batchSize: 32,
      mcSamples: 1,
      klWeight: 0.01,
    };
    // the recipe for 2 epochs: the rate falls to 0.13x at epoch 2, d = 0.13 per epoch
    const first = await runTraining(withModelRecipe({ ...tiny, epochs: 2, out }), { quiet: true });
    first.model.dispose();
    const f = BAYES_LENET5_RECIPE.lrFinalFraction as number;
    const lines: string[] = [];
    // the CLI's resume: the recipe, for the new 4 epochs, would say d = 0.13^(1/3) = 0.51
    const more = await runTraining(withModelRecipe({ ...tiny, epochs: 4, out }), {
      resume: true,
      explicit: ['epochs', 'out'],
      log: (l) => lines.push(l),
      progress: quietProgress(),
    });
    more.model.dispose();
    expect(more.records.length).toBe(4);
    // the saved decay stays (epochs 1-2 were trained with it; epochs 3-4 continue it)
    expect(more.config.lrDecay).toBeCloseTo(f, 12);
    const st = JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')) as {
      config: { lrDecay: number; epochs: number };
    };
    expect(st.config.lrDecay).toBeCloseTo(f, 12);
    expect(st.config.epochs).toBe(4);
    const note = lines.find((l) => l.includes('extending'));
    expect(note).toBe(
      `deepprob: extending 2 to 4 epochs: the saved lr decay ${Number(f.toPrecision(4))} per epoch ` +
        `continues (epoch 2 trained at ${Number(f.toPrecision(3))}x lr, epochs 3..4 at ` +
        `${Number((f * f).toPrecision(3))}x..${Number((f * f * f).toPrecision(3))}x of lr ${BAYES_LENET5_RECIPE.lr})`,
    );
  }, 120_000);
});
