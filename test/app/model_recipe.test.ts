/**
 * The zoo's training recipes (#17 item 3): `deepprob train --model bayes-lenet5` with nothing else
 * trains the measured recipe (Flipout, rho from -5, Adam 2e-3 falling to 0.13x by the last epoch);
 * what a command line gives explicitly wins; models without a recipe keep the global defaults.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { recipeDecay, TRAIN_DEFAULTS, withModelRecipe } from '../../src/app/index.js';
import { main } from '../../src/cli/main.js';
import { BAYES_LENET5_RECIPE } from '../../src/models/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import type { TrainConfig } from '../../src/app/index.js';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

describe('--activation', () => {
  it('trains 3conv3fc with ReLU from the command line; a fixed-activation model refuses it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'deepprob-act-')), 'run');
    const argv = ['node', 'deepprob', 'train', '--model', '3conv3fc', '--activation', 'relu'];
    const small = ['--limit', '64', '--test-limit', '32', '--epochs', '1', '--quiet'];
    await main([...argv, ...small, '--out', out]);
    const ck = await loadCheckpoint<TrainConfig, unknown>(join(out, 'checkpoint'));
    const kinds = ck.model.layers.map((l) => (l.getConfig() as { activation?: string }).activation);
    ck.model.dispose();
    expect(ck.state?.config.activation).toBe('relu');
    expect(kinds).toContain('relu');
    expect(kinds).not.toContain('softplus');
    await expect(
      main(['node', 'deepprob', 'train', '--model', 'lenet', '--activation', 'relu', ...small]),
    ).rejects.toThrow(/^activation: model 'lenet' has a fixed activation/);
  }, 120_000);
});

describe('recipeDecay', () => {
  it('reaches the final fraction at the last epoch whatever the length', () => {
    expect(recipeDecay(0.6 ** 4, 5)).toBeCloseTo(0.6, 12);
    for (const e of [2, 3, 10, 50]) {
      expect(Math.pow(recipeDecay(0.13, e), e - 1)).toBeCloseTo(0.13, 12);
    }
    expect(recipeDecay(0.13, 1)).toBe(1);
    expect(() => recipeDecay(0, 5)).toThrow(/finalFraction/);
    expect(() => recipeDecay(0.5, 0)).toThrow(/epochs/);
  });
});

describe('withModelRecipe', () => {
  it('fills what a bayes-lenet5 run leaves out, keeps what it gives', () => {
    const r = withModelRecipe({ model: 'bayes-lenet5', epochs: 5 });
    expect(r).toMatchObject({ estimator: 'flipout', rhoInit: -5, lr: 2e-3 });
    expect(r.lr).toBe(BAYES_LENET5_RECIPE.lr);
    expect((r as { lrDecay?: number }).lrDecay).toBeCloseTo(0.6, 12);
    const given = withModelRecipe({
      model: 'bayes-lenet5',
      epochs: 5,
      estimator: 'reparam' as const,
      rhoInit: -3,
      lr: 1e-3,
      lrDecay: 1,
    });
    expect(given).toMatchObject({ estimator: 'reparam', rhoInit: -3, lr: 1e-3, lrDecay: 1 });
  });

  it('models without a recipe get the global defaults only', () => {
    const r = withModelRecipe({ model: 'lenet5', epochs: 5 }) as Partial<TrainConfig>;
    expect(r.lr).toBe(TRAIN_DEFAULTS.lr);
    expect(r.estimator).toBeUndefined();
    expect(r.rhoInit).toBeUndefined();
    expect(r.lrDecay).toBeUndefined();
    expect(() => withModelRecipe({ model: 'no-such-net' })).toThrow(/model/);
  });
});

describe('deepprob train applies the recipe', () => {
  const tiny = ['--limit', '64', '--test-limit', '20', '--batch-size', '32', '--quiet'];

  async function trained(args: string[]): Promise<TrainConfig> {
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-recipe-'));
    const code = await main(['node', 'deepprob', 'train', '--out', dir, ...tiny, ...args]);
    expect(code).toBe(0);
    const ck = await loadCheckpoint<TrainConfig, unknown>(dir);
    ck.model.dispose();
    return ck.state?.config as TrainConfig;
  }

  it('the default model trains the recipe; an explicit option wins; a plain model keeps 1e-3', async () => {
    const c = await trained(['--epochs', '2', '--mc-samples', '1']);
    expect(c.model).toBe('bayes-lenet5');
    expect(c).toMatchObject({ estimator: 'flipout', rhoInit: -5, lr: 2e-3 });
    // two epochs: the whole fall to 0.6^4 happens in one step
    expect(c.lrDecay).toBeCloseTo(0.6 ** 4, 12);
    const d = await trained([
      '--epochs',
      '1',
      '--estimator',
      'reparam',
      '--lr',
      '0.001',
      '--rho-init',
      '-3',
    ]);
    expect(d).toMatchObject({ estimator: 'reparam', rhoInit: -3, lr: 1e-3, lrDecay: 1 });
    const p = await trained(['--model', 'lenet5', '--epochs', '1']);
    expect(p.lr).toBe(1e-3);
    expect(p.lrDecay).toBeUndefined();
  }, 120_000);
});
