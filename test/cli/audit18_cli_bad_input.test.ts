/**
 * Audit 18 (reliability, round 2): command lines a user gets wrong. Every refusal is one message
 * naming the flag and the expected value, a non-zero exit code, no stack trace and no raw
 * JavaScript/tfjs message. In-process, as `bin/deepprob.js` runs it (`runCli`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { decimal } from '../../src/cli/options.js';
import { fileIO } from '../../src/utils/file_io.js';
import { runCli } from '../faults/cli_runner.js';

const root = mkdtempSync(join(tmpdir(), 'deepprob-a18-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const RAW =
  /TypeError|RangeError|ReferenceError|ENOTDIR|EISDIR|scandir|Cannot read prop|undefined is not|is not a function/;
const STACK = /\n\s+at .*(\(|:\d+:\d+)/;

/** A bad command line fails, naming what `expected` matches, in one line. */
async function refused(args: string[], expected: RegExp): Promise<string> {
  const r = await runCli(args);
  const err = r.stderr.replace(/^deepprob: backend .*$/m, '').trim();
  expect(r.code, `${args.join(' ')}: exit code\n${err}`).not.toBe(0);
  expect(err, args.join(' ')).toMatch(expected);
  expect(err, `${args.join(' ')}: raw message`).not.toMatch(RAW);
  expect(err, `${args.join(' ')}: stack trace`).not.toMatch(STACK);
  expect(err.split('\n'), `${args.join(' ')}: one line`).toHaveLength(1);
  return err;
}

describe('numbers on the command line are decimal', () => {
  it('decimal() reads decimal notation only', () => {
    expect(decimal('12')).toBe(12);
    expect(decimal(' -0.5 ')).toBe(-0.5);
    expect(decimal('1e-3')).toBe(0.001);
    expect(decimal('.5')).toBe(0.5);
    expect(decimal('5.')).toBe(5);
    expect(decimal('+2E2')).toBe(200);
    for (const s of [
      '0x10',
      '0b1',
      '0o7',
      '',
      ' ',
      'Infinity',
      '-Infinity',
      'NaN',
      '1_000',
      '1e',
      'e3',
      '--1',
      '1,5',
    ])
      expect(decimal(s), s).toBeNaN();
  });

  it('hexadecimal, binary and octal counts are refused naming the flag (Number() read 0x10 as 16)', async () => {
    const out = join(root, 'never');
    await refused(
      ['train', '--model', 'lenet5', '--epochs', '0x10', '--out', out],
      /--epochs <n>.*'0x10'.*expected an integer in \[1, 100000\]/,
    );
    await refused(
      ['train', '--model', 'lenet5', '--batch-size', '0b1000', '--out', out],
      /--batch-size/,
    );
    await refused(['train', '--model', 'lenet5', '--lr', '0x1', '--out', out], /--lr <x>.*'0x1'/);
    await refused(['train', '--model', 'lenet5', '--seed', '0o17', '--out', out], /--seed/);
    await refused(
      ['train', '--model', 'lenet5', '--kl-weight', '0x0', '--out', out],
      /--kl-weight/,
    );
    await refused(['eval', '--checkpoint', out, '--limit', '0x8'], /--limit <n>.*'0x8'/);
    await refused(['uncertainty', '--checkpoint', out, '--bins', '0xA'], /--bins/);
    await refused(
      ['score', '--checkpoint', out, '--data', 'mnist', '--shards', '0x2'],
      /--shards.*positive integer/,
    );
    await refused(
      ['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0b1'],
      /--concurrency/,
    );
    await refused(['shift', '--checkpoint', out, '--angles', '15,0x1e'], /--angles.*'0x1e'/);
    await refused(['demo', '--epochs', '0x1'], /--epochs/);
  });
});

describe('--checkpoint that is a file', () => {
  it('is refused naming the file and what was expected (was ENOTDIR: scandir)', async () => {
    const file = join(root, 'notes.txt');
    writeFileSync(file, 'not a run');
    for (const cmd of ['eval', 'uncertainty', 'shift']) {
      const err = await refused(
        [cmd, '--checkpoint', file, ...(cmd === 'eval' ? [] : ['--out', join(root, 'o')])],
        /is a file; expected a run folder.*--checkpoint/,
      );
      expect(err).toContain(file);
    }
  });
});

describe('a model folder whose weights do not fit its topology', () => {
  it('eval, uncertainty and convert name model.json once, in one line (was tfjs: Shape mismatch)', async () => {
    const dir = join(root, 'mismatch');
    const m = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10 })],
    });
    await m.save(fileIO(dir));
    m.dispose();
    const path = join(dir, 'model.json');
    const j = JSON.parse(readFileSync(path, 'utf8')) as {
      weightsManifest: { weights: { shape: number[] }[] }[];
    };
    const k = j.weightsManifest[0]?.weights[0] as { shape: number[] };
    k.shape = [...k.shape].reverse();
    writeFileSync(path, JSON.stringify(j));
    const before = tf.memory().numTensors;
    for (const args of [
      ['eval', '--checkpoint', dir],
      ['uncertainty', '--checkpoint', dir, '--out', join(root, 'u')],
      ['convert', '--model', dir, '--out', join(root, 'c')],
    ]) {
      const err = await refused(
        args,
        /model\.json: does not load as a layers model \(Shape mismatch/,
      );
      expect(err.split(path)).toHaveLength(2); // the path once
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
