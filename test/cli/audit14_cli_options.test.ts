/**
 * Audit (#16, fresh eyes): command lines off the bad-input table of the fault suite. The numeric
 * options of `score` and `ensemble` against the documented ranges, an ensemble whose later
 * members' seeds overflow, the output folders of `uncertainty`, `shift` and `convert` that cannot
 * be written (a file, `/proc`), options that contradict each other, resuming a run to fewer epochs
 * than it has, and data whose images are not uint8. Each must exit non-zero with a message naming
 * the option (or file), before any work starts, with no raw message or stack trace.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTraining, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { fileIO } from '../../src/utils/file_io.js';
import { runCli } from '../faults/cli_runner.js';
import { idxBytes, idxDataset } from '../idx_fixture.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit14-cli-'));

let data: string;
let run: string;
let file: string;
let dnn: string;

beforeAll(async () => {
  data = idxDataset({ count: 64 }, { count: 16 });
  run = tmp();
  const r = await runTraining(
    {
      ...TRAIN_DEFAULTS,
      model: 'lenet5',
      dataset: 'mnist',
      dataDir: data,
      out: run,
      epochs: 2,
      batchSize: 32,
      mcSamples: 1,
    },
    { quiet: true },
  );
  r.model.dispose();
  file = join(tmp(), 'a-file');
  writeFileSync(file, 'x');
  const d = tmp();
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
  await m.save(fileIO(d));
  m.dispose();
  dnn = join(d, 'model.json');
}, 120_000);

const RAW =
  /TypeError|RangeError|ReferenceError|Cannot read prop|undefined is not|is not a function|Invalid typed array/;
const STACK = /\n\s+at .*(\(|:\d+:\d+)/;

/** Run a bad command line: it fails fast with a message matching `expected`. */
async function refused(args: string[], expected: RegExp, maxMs = 15_000): Promise<string> {
  const t0 = performance.now();
  const r = await runCli(args);
  const ms = performance.now() - t0;
  const err = r.stderr.replace(/^deepprob: backend .*$/m, '').trim();
  expect(r.code, `${args.join(' ')}: exit code\n${err}`).not.toBe(0);
  expect(err, args.join(' ')).toMatch(expected);
  expect(err, 'raw message').not.toMatch(RAW);
  expect(err, 'stack trace').not.toMatch(STACK);
  expect(ms, `${args.join(' ')} took ${ms} ms (work started before the refusal?)`).toBeLessThan(
    maxMs,
  );
  return err;
}

describe('score and ensemble: numeric options hold the documented ranges', () => {
  const score = (...a: string[]): string[] => [
    'score',
    '--checkpoint',
    run,
    '--data',
    'mnist',
    '--data-dir',
    data,
    '--shards',
    '1',
    '--store',
    join(tmp(), 'store'),
    '--quiet',
    ...a,
  ];
  it('score --mc-samples 1e9 (range [1, 10000]) on an otherwise valid line', async () => {
    await refused(score('--mc-samples', '1e9'), /--mc-samples/);
  });
  it('score --seed -1 and 1e12 (seeds are unsigned 32-bit)', async () => {
    await refused(score('--seed', '-1'), /--seed/);
    await refused(score('--seed', '1e12'), /--seed/);
  });
  it('score --limit 0 and --shards 0', async () => {
    await refused(score('--limit', '0'), /--limit/);
    await refused(score('--shards', '0'), /--shards/);
  });
  const ensemble = (...a: string[]): string[] => [
    'ensemble',
    '--model',
    'lenet5',
    '--dataset',
    'mnist',
    '--data-dir',
    data,
    '--epochs',
    '1',
    '--limit',
    '32',
    '--mc-samples',
    '1',
    '--store',
    join(tmp(), 'store'),
    '--quiet',
    ...a,
  ];
  it('ensemble --lr 1e10, --epochs 1e9, --mc-samples 1e9, --prior-sigma 1e300 are refused at submit', async () => {
    await refused(ensemble('--members', '2', '--lr', '1e10'), /lr/);
    await refused(ensemble('--members', '2', '--epochs', '1e9'), /epochs/);
    await refused(ensemble('--members', '2', '--mc-samples', '1e9'), /mc-samples/);
    await refused(
      ensemble('--members', '2', '--model', 'bayes-lenet5', '--prior-sigma', '1e300'),
      /prior-sigma/,
    );
  });
  it('ensemble --seed 4294967295 --members 2: member 1 would have seed 2^32, refused before member 0 trains', async () => {
    const err = await refused(ensemble('--members', '2', '--seed', '4294967295'), /seed/, 8_000);
    expect(err).toMatch(/4294967296|member/);
  });
  it('ensemble --members 1 and --members 1e6', async () => {
    await refused(ensemble('--members', '1'), /--members/);
    await refused(ensemble('--members', '1e6'), /--members/);
  });
});

describe('output folders that cannot be written are refused before any work', () => {
  it('uncertainty --out a file', async () => {
    await refused(
      ['uncertainty', '--checkpoint', run, '--ood', `mnist:${data}`, '--out', file],
      /out: cannot write to .*a-file/,
      8_000,
    );
  });
  it('uncertainty --out under /proc', async () => {
    await refused(
      ['uncertainty', '--checkpoint', run, '--out', '/proc/deepprob-audit14/u'],
      /out: cannot write to \/proc\/deepprob-audit14/,
      8_000,
    );
  });
  it('shift --out a file and under /proc', async () => {
    await refused(
      [
        'shift',
        '--checkpoint',
        run,
        '--out',
        join(file, 'sub'),
        '--limit',
        '8',
        '--calibration',
        '8',
      ],
      /out: cannot write to .*a-file/,
      8_000,
    );
    await refused(
      [
        'shift',
        '--checkpoint',
        run,
        '--out',
        '/proc/deepprob-audit14/s',
        '--limit',
        '8',
        '--calibration',
        '8',
      ],
      /out: cannot write to \/proc\/deepprob-audit14/,
      8_000,
    );
  });
  it('convert --out under /proc and below a file', async () => {
    await refused(
      ['convert', '--model', dnn, '--out', '/proc/deepprob-audit14/c'],
      /out.*\/proc\/deepprob-audit14/,
    );
    await refused(['convert', '--model', dnn, '--out', join(file, 'c')], /out.*a-file/);
  });
});

describe('runs: contradictions and shrinking', () => {
  it('train --resume --force contradict each other', async () => {
    await refused(
      ['train', '--model', 'lenet5', '--data-dir', data, '--out', run, '--resume', '--force'],
      /--resume.*--force|--force.*--resume/,
    );
  });
  it('train --resume --epochs 1 on a run that has 2 epochs: refused naming --epochs, the run untouched', async () => {
    const state = readFileSync(join(run, 'checkpoint', 'state.json'), 'utf8');
    const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8');
    await refused(
      ['train', '--out', run, '--resume', '--epochs', '1', '--quiet'],
      /epochs.*2/,
      20_000,
    );
    expect(readFileSync(join(run, 'checkpoint', 'state.json'), 'utf8')).toBe(state);
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8')).toBe(metrics);
    expect(existsSync(join(run, '.lock'))).toBe(false);
  });
  it('train --resume of a finished run without --epochs ends at once saying so, changing nothing', async () => {
    const state = readFileSync(join(run, 'checkpoint', 'state.json'), 'utf8');
    const r = await runCli(['train', '--out', run, '--resume', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(run, 'checkpoint', 'state.json'), 'utf8')).toBe(state);
  });
});

describe('datasets that are not uint8 images', () => {
  it('float32 IDX images (with NaN pixels) are refused naming the file', async () => {
    const dir = idxDataset({ count: 8 }, { count: 8 });
    const f = new Float32Array(8 * 12 * 12).fill(0.5);
    f[3] = Number.NaN;
    const bytes = idxBytes([8, 12, 12], new Uint8Array(f.buffer));
    bytes[2] = 0x0d; // float32
    // IDX data is big-endian; the NaN stays a NaN whatever the byte order
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), bytes);
    await refused(
      [
        'train',
        '--model',
        'lenet5',
        '--data-dir',
        dir,
        '--epochs',
        '1',
        '--out',
        join(tmp(), 'r'),
        '--quiet',
      ],
      /train-images-idx3-ubyte.*uint8/,
    );
  });
});
