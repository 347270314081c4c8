/**
 * Audit 18 (training round 2): `--estimator` read in any letter case, as `--kl-weight`'s schedule
 * names are (`--estimator Flipout` trains the flipout twin; an unknown name is still refused
 * naming the flag and echoing what was typed). In-process (`runCli`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../faults/cli_runner.js';
import { idxDataset } from '../idx_fixture.js';

const root = mkdtempSync(join(tmpdir(), 'deepprob-a18-forms-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = idxDataset({ count: 8 }, { count: 4 });
let n = 0;
const out = (): string => join(root, `r${n++}`);
const tiny = ['--dataset', 'mnist', '--data-dir', data, '--epochs', '1', '--batch-size', '8'];

describe('deepprob train --estimator in any letter case', () => {
  for (const [typed, saved] of [
    ['Flipout', 'flipout'],
    ['LOCAL', 'local'],
    [' reparam', 'reparam'],
  ] as const) {
    it(`'${typed}' trains with ${saved}`, async () => {
      const o = out();
      const r = await runCli([
        'train',
        '--model',
        'bayes-lenet5',
        '--estimator',
        typed,
        ...tiny,
        '--mc-samples',
        '1',
        '--quiet',
        '--out',
        o,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const state = JSON.parse(readFileSync(join(o, 'checkpoint', 'state.json'), 'utf8')) as {
        config: { estimator: string };
      };
      expect(state.config.estimator).toBe(saved);
    }, 30_000);
  }
  it('an unknown name is refused naming the flag and the text typed', async () => {
    const r = await runCli(['train', '--model', 'bayes-lenet5', '--estimator', 'Bogus', ...tiny]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--estimator <name>.*'Bogus' is invalid.*reparam, local, flipout/);
  });
});
