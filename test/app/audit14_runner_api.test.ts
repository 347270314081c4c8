/**
 * Audit (#16, fresh eyes): the runners of `deepprob/node` called from the API as a user would,
 * with the bad values the CLI's parsers would have refused (the API has no parser in front):
 * unknown option keys, out-of-range numbers, wrong types, an empty training or test split. Each
 * must be an ArgumentError naming the option before any work, leaving no run folder behind.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  convertFile,
  runEvaluation,
  runTraining,
  runUncertaintyReport,
  TRAIN_DEFAULTS,
  type TrainConfig,
} from '../../src/app/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { fileIO } from '../../src/utils/file_io.js';
import { idxDataset } from '../idx_fixture.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit14-api-'));

let data: string;
let oodData: string;
let run: string;

beforeAll(async () => {
  data = idxDataset({ count: 32 }, { count: 16 });
  oodData = idxDataset({ count: 8 }, { count: 16 });
  run = tmp();
  const r = await runTraining(
    {
      ...TRAIN_DEFAULTS,
      model: 'lenet5',
      dataset: 'mnist',
      dataDir: data,
      out: run,
      epochs: 1,
      batchSize: 16,
      mcSamples: 1,
    },
    { quiet: true },
  );
  r.model.dispose();
}, 120_000);

const base = (): TrainConfig => ({
  ...TRAIN_DEFAULTS,
  model: 'lenet5',
  dataset: 'mnist',
  dataDir: data,
  out: join(tmp(), 'run'),
  epochs: 1,
  batchSize: 16,
  mcSamples: 1,
});

/** The call is refused with an ArgumentError matching `expected`, leaking no tensor. */
async function refused(call: () => Promise<unknown>, expected: RegExp): Promise<void> {
  const before = tf.memory().numTensors;
  const err = await call().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(tf.memory().numTensors).toBe(before);
  expect(err, 'the call succeeded').toBeDefined();
  expect(err, err?.message).toBeInstanceOf(ArgumentError);
  expect(err?.message).toMatch(expected);
}

describe('runTraining from the API', () => {
  it('an unknown configuration key (a typo) is refused naming it', async () => {
    const c = { ...base(), epocs: 3 } as unknown as TrainConfig;
    await refused(() => runTraining(c, { quiet: true }), /epocs/);
    expect(existsSync(c.out)).toBe(false);
  });
  it('an unknown run option (resum) is refused naming it', async () => {
    const c = base();
    await refused(
      () => runTraining(c, { quiet: true, resum: true } as unknown as { quiet: boolean }),
      /resum/,
    );
    expect(existsSync(c.out)).toBe(false);
  });
  it('numbers the CLI would refuse: epochs "3" (a string), batchSize 0, lr NaN, seed -1', async () => {
    for (const [key, value] of [
      ['epochs', '3'],
      ['batchSize', 0],
      ['lr', Number.NaN],
      ['seed', -1],
      ['mcSamples', 1e9],
    ] as const) {
      const c = { ...base(), [key]: value } as unknown as TrainConfig;
      await refused(() => runTraining(c, { quiet: true }), new RegExp(key));
      expect(existsSync(c.out), key).toBe(false);
    }
  });
  it('force together with resume is refused', async () => {
    await refused(
      () => runTraining({ ...base(), out: run }, { quiet: true, resume: true, force: true }),
      /force/,
    );
  });
  it('an empty training split, and an empty test split, are refused naming the files', async () => {
    const emptyTrain = idxDataset({ count: 0 }, { count: 8 });
    await refused(
      () => runTraining({ ...base(), dataDir: emptyTrain }, { quiet: true }),
      /train-images|no images|empty|0 images/,
    );
    const emptyTest = idxDataset({ count: 16 }, { count: 0 });
    await refused(
      () => runTraining({ ...base(), dataDir: emptyTest }, { quiet: true }),
      /t10k-images|test|no images|empty|0 images/,
    );
  });
});

describe('runEvaluation / runUncertaintyReport / convertFile from the API', () => {
  it('runEvaluation: unknown key, mcSamples 0, limit -1, batchSize 0 and 1.5 are refused', async () => {
    for (const [key, value] of [
      ['mcSample', 3],
      ['mcSamples', 0],
      ['limit', -1],
      ['batchSize', 0],
      ['batchSize', 1.5],
    ] as const) {
      await refused(
        () => runEvaluation({ checkpoint: run, [key]: value } as { checkpoint: string }),
        new RegExp(key),
      );
    }
  });
  it('runUncertaintyReport: unknown key and numBins 0 are refused', async () => {
    await refused(
      () =>
        runUncertaintyReport({ checkpoint: run, ood: `mnist:${oodData}`, mcSample: 4 } as {
          checkpoint: string;
        }),
      /mcSample/,
    );
    await refused(
      () => runUncertaintyReport({ checkpoint: run, ood: `mnist:${oodData}`, numBins: 0 }),
      /numBins|bins/,
    );
  });
  it('convertFile: an unknown key is refused naming it', async () => {
    const d = tmp();
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
    await m.save(fileIO(d));
    m.dispose();
    await refused(
      () =>
        convertFile({
          model: join(d, 'model.json'),
          out: join(tmp(), 'bnn'),
          estimater: 'flipout',
        } as unknown as Parameters<typeof convertFile>[0]),
      /estimater/,
    );
  });
});
