/**
 * What the CLI's input checks let through (their refusals are in test/faults/cli_bad_input.test.ts):
 * defaults and a recipe's settings never count as a Bayesian option given to a plain model, a
 * Bayesian option given to a Bayesian model is taken, and `eval --resize bilinear` evaluates a
 * checkpoint on images larger than its input (which `eval` without it refuses, naming `--resize`).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { idxDataset } from '../idx_fixture.js';

let out: string[] = [];
let err: string[] = [];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-checks-'));
const run = (...a: string[]): Promise<number> => main(['node', 'deepprob', ...a]);
const quick = ['--epochs', '1', '--batch-size', '16', '--mc-samples', '1', '--quiet', '--json'];

describe('CLI input checks: what passes', () => {
  it('a plain model with defaults only, and Bayesian options given to a Bayesian model', async () => {
    const data = idxDataset({ count: 32 }, { count: 16 });
    const plain = join(tmp(), 'plain');
    expect(
      await run('train', '--model', 'lenet5', '--data-dir', data, '--out', plain, ...quick),
    ).toBe(0);
    // the saved configuration holds commander's default KL weight, unused and not refused
    const st = JSON.parse(readFileSync(join(plain, 'checkpoint', 'state.json'), 'utf8')) as {
      config: Record<string, unknown>;
    };
    expect(st.config.klWeight).toBe('1');
    const bnn = join(tmp(), 'bnn');
    const bayes = ['--kl-weight', '0.5', '--prior-sigma', '0.2', '--rho-lr-scale', '2'];
    expect(
      await run(
        'train',
        '--model',
        'bayes-lenet5',
        '--data-dir',
        data,
        '--out',
        bnn,
        ...quick,
        ...bayes,
      ),
    ).toBe(0);
  }, 120_000);

  it('eval --resize bilinear takes images larger than the checkpoint input', async () => {
    const small = idxDataset({ count: 32 }, { count: 16 });
    const big = idxDataset(
      { count: 8, height: 40, width: 40 },
      { count: 8, height: 40, width: 40 },
    );
    const dir = join(tmp(), 'run');
    expect(
      await run('train', '--model', 'lenet5', '--data-dir', small, '--out', dir, ...quick),
    ).toBe(0);
    out = [];
    const code = await run(
      'eval',
      '--checkpoint',
      dir,
      '--data-dir',
      big,
      '--resize',
      'bilinear',
      '--json',
    );
    expect(code).toBe(0);
    const r = JSON.parse(out.at(-1) as string) as { count: number; accuracy: number };
    expect(r.count).toBe(8);
    expect(r.accuracy).toBeGreaterThanOrEqual(0);
    await expect(run('eval', '--checkpoint', dir, '--data-dir', big)).rejects.toThrow(
      /^resize: .*pass --resize bilinear/,
    );
  }, 120_000);
});
