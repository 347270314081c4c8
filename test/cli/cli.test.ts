import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildProgram, main } from '../../src/cli/main.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

let out: string[] = [];
beforeEach(() => {
  out = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    out.push(a.join(' '));
  });
  vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'deepprob-cli-'));
}

const tiny = [
  '--limit',
  '64',
  '--test-limit',
  '40',
  '--batch-size',
  '32',
  '--quiet',
  '--seed',
  '3',
];

describe('deepprob train / eval', () => {
  it('trains a Bayesian LeNet-5 for one epoch and evaluates its checkpoint', async () => {
    const dir = tmp();
    const code = await main([
      'node',
      'deepprob',
      'train',
      '--model',
      'bayes-lenet5',
      '--estimator',
      'flipout',
      '--epochs',
      '1',
      '--mc-samples',
      '2',
      '--out',
      dir,
      '--json',
      ...tiny,
    ]);
    expect(code).toBe(0);
    const rec = JSON.parse(out.at(-1) as string) as Record<string, number | string>;
    expect(rec.epoch).toBe(1);
    expect(rec.step).toBe(2);
    expect(rec.mcSamples).toBe(2);
    for (const k of ['testAccuracy', 'testAccuracyMean', 'testAccuracyMc']) {
      expect(rec[k]).toBeGreaterThanOrEqual(0);
      expect(rec[k]).toBeLessThanOrEqual(1);
    }
    expect(readdirSync(dir).sort()).toEqual(['checkpoint', 'metrics.csv', 'metrics.jsonl']);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length).toBe(1);
    // `deepprob eval --json` on 40 test images with 3 MC samples: its JSON record
    const evalJson = async (): Promise<Record<string, number | string>> => {
      out = [];
      await main([
        'node',
        'deepprob',
        'eval',
        '--checkpoint',
        dir,
        '--limit',
        '40',
        '--mc-samples',
        '3',
        '--json',
      ]);
      return JSON.parse(out.at(-1) as string) as Record<string, number | string>;
    };
    const before = tf.memory().numTensors;
    const ev = await evalJson();
    expect(tf.memory().numTensors).toBe(before);
    expect(ev.count).toBe(40);
    expect(ev.mcSamples).toBe(3);
    expect(ev.model).toBe('bayes-lenet5');
    expect(ev.dataset).toBe('mnist/test[:40]');
    expect(ev.accuracyMc).toBeGreaterThanOrEqual(0);
    // the MC weight draws are seeded (the run's seed): a second evaluation repeats every figure
    const again = await evalJson();
    for (const k of [
      'accuracyMc',
      'nll',
      'ece',
      'meanEntropy',
      'meanMutualInfo',
      'accuracySingle',
    ]) {
      if (ev[k] !== undefined) expect(again[k], k).toBe(ev[k]);
    }
    expect(again.nll).toBeDefined();
    out = [];
    await main(['node', 'deepprob', 'eval', '--checkpoint', dir, '--limit', '40']);
    expect(out.join('\n')).toMatch(/accuracy \(MC, 2 samples\): \d+\.\d\d%/);
  });

  it('resume continues a run from its checkpoint', async () => {
    const b = tmp();
    const args = ['--model', 'bayes-lenet5', '--mc-samples', '1', ...tiny];
    await main(['node', 'deepprob', 'train', '--epochs', '1', '--out', b, ...args]);
    const first = await loadCheckpoint<unknown, { epoch: number }>(b);
    await main(['node', 'deepprob', 'train', '--epochs', '2', '--out', b, '--resume', ...args]);
    const cb = await loadCheckpoint<unknown, { epoch: number; trainLoss: number }>(b);
    expect(cb.state?.epoch).toBe(2);
    expect(cb.state?.step).toBe(4);
    expect(cb.state?.metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(readFileSync(join(b, 'metrics.csv'), 'utf8').trim().split('\n').length).toBe(3);
    // the second epoch started from the first epoch's weights (it moved them, but not far)
    const w0 = first.model.getWeights()[0] as tf.Tensor;
    const w1 = cb.model.getWeights()[0] as tf.Tensor;
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(w0, w1))).dataSync()[0] as number);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(0.05);
    first.model.dispose();
    cb.model.dispose();
  });

  it('rejects bad options with the option name', async () => {
    await expect(
      main(['node', 'deepprob', 'train', '--model', 'resnet', '--out', tmp(), ...tiny]),
    ).rejects.toThrow(/model: expected one of lenet5, bayes-lenet5/);
    await expect(main(['node', 'deepprob', 'eval', '--checkpoint', tmp()])).rejects.toThrow(
      /no model.json/,
    );
  });

  it('has --help for each subcommand', () => {
    const program = buildProgram();
    const help: Record<string, string> = {};
    for (const c of program.commands) help[c.name()] = c.helpInformation();
    expect(help.train).toMatch(/--estimator <name>/);
    expect(help.train).toMatch(/--resume/);
    expect(help.train).toMatch(/--limit <n>/);
    expect(help.eval).toMatch(/--checkpoint <dir>/);
    expect(help.demo).toMatch(/--epochs <n>/);
  });
});
