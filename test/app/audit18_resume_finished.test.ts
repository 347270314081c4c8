/**
 * Audit 18 (training round 2): `--resume` of a run that has finished its epochs, and of a run
 * given fewer epochs than it has done; `--kl-weight` on resume compared as the schedule it names
 * (`1.0` is the saved `1`, `Blundell` the saved `blundell`), not as the text typed.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTraining, TRAIN_DEFAULTS, type TrainConfig } from '../../src/app/index.js';
import { checkResumedEpochs } from '../../src/app/train_resume.js';
import { disposeModel } from '../../src/layers/dispose_model.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { idxDataset } from '../idx_fixture.js';

const data = idxDataset({ count: 16 }, { count: 8 });
const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-a18-resume-'));

const config = (out: string, over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...TRAIN_DEFAULTS,
  model: 'bayes-lenet5',
  dataset: 'mnist',
  dataDir: data,
  out,
  epochs: 1,
  batchSize: 8,
  mcSamples: 1,
  ...over,
});

/** A finished one-epoch run in a fresh folder, with the given configuration. */
async function finishedRun(over: Partial<TrainConfig> = {}): Promise<string> {
  const out = join(tmp(), 'run');
  const r = await runTraining(config(out, over), { quiet: true, log: () => undefined });
  disposeModel(r.model);
  return out;
}

let out: string;
beforeAll(async () => {
  out = await finishedRun({ klWeight: '1' });
}, 60_000);

describe('resuming a finished run', () => {
  it('says there is nothing to train, trains nothing and keeps the checkpoint', async () => {
    const before = readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8');
    const lines: string[] = [];
    const n = tf.memory().numTensors;
    const r = await runTraining(config(out), {
      resume: true,
      explicit: ['out'],
      log: (l) => lines.push(l),
    });
    expect(r.records).toHaveLength(1);
    disposeModel(r.model);
    expect(tf.memory().numTensors).toBe(n);
    const text = lines.join('\n');
    expect(text).toMatch(/finished its 1 epochs: nothing to train/);
    expect(text).toMatch(/--epochs 2 or more/);
    // no "training ... epochs 2..1" line
    expect(text).not.toMatch(/epochs 2\.\.1/);
    expect(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')).toBe(before);
  }, 30_000);

  it('fewer epochs than done is refused naming epochs, leaking nothing', async () => {
    const two = await finishedRun({ epochs: 2 });
    const n = tf.memory().numTensors;
    const err = await runTraining(config(two, { epochs: 1 }), {
      resume: true,
      quiet: true,
      explicit: ['out', 'epochs'],
      log: () => undefined,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe('epochs');
    expect(err?.message).toMatch(/already trained 2 epochs; --epochs 1 is fewer/);
    expect(tf.memory().numTensors).toBe(n);
  }, 60_000);
});

describe('--kl-weight on resume is compared as the schedule it names', () => {
  for (const same of ['1.0', '1', 'constant', 1]) {
    it(`${JSON.stringify(same)} resumes a run saved with '1'`, async () => {
      const r = await runTraining(config(out, { klWeight: same }), {
        resume: true,
        explicit: ['out', 'klWeight'],
        log: () => undefined,
        quiet: true,
      });
      disposeModel(r.model);
    }, 30_000);
  }
  it("'Blundell' resumes a run saved with 'blundell'; 'uniform' one saved with 'standard'", async () => {
    for (const [saved, given] of [
      ['blundell', 'Blundell'],
      ['standard', 'UNIFORM'],
    ] as const) {
      const o = await finishedRun({ klWeight: saved });
      const r = await runTraining(config(o, { klWeight: given }), {
        resume: true,
        explicit: ['out', 'klWeight'],
        quiet: true,
        log: () => undefined,
      });
      disposeModel(r.model);
    }
  }, 60_000);
  it('a different weight is still refused naming kl-weight', async () => {
    for (const other of ['0.5', 'blundell']) {
      const err = await runTraining(config(out, { klWeight: other }), {
        resume: true,
        explicit: ['out', 'klWeight'],
        quiet: true,
        log: () => undefined,
      }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(ArgumentError);
      expect(err?.message).toMatch(/kl-weight is "1"; got/);
    }
  }, 30_000);
});

describe('a resume that fails after reading the checkpoint', () => {
  it('frees the optimizer state it read (data moved to a damaged copy)', async () => {
    const run = await finishedRun();
    const bad = tmp();
    for (const f of readdirSync(data)) copyFileSync(join(data, f), join(bad, f));
    const test = readFileSync(join(bad, 't10k-images-idx3-ubyte'));
    writeFileSync(join(bad, 't10k-images-idx3-ubyte'), test.subarray(0, test.length - 10));
    const n = tf.memory().numTensors;
    const err = await runTraining(config(run, { epochs: 2, dataDir: bad }), {
      resume: true,
      quiet: true,
      explicit: ['out', 'epochs', 'dataDir'],
      log: () => undefined,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/t10k-images-idx3-ubyte: truncated/);
    expect(tf.memory().numTensors).toBe(n);
  }, 60_000);
});

describe('checkResumedEpochs (the epochs of a resumed run against those done)', () => {
  it('more epochs: nothing to say; as many: the finished line; fewer: refused naming epochs', () => {
    expect(checkResumedEpochs('ck', 2, 0, 3, ['epochs'])).toBeUndefined();
    expect(checkResumedEpochs('ck', 2, 0, 2, [])).toMatch(/finished its 2 epochs/);
    expect(() => checkResumedEpochs('ck', 2, 0, 1, ['epochs'])).toThrow(
      /already trained 2 epochs; --epochs 1 is fewer/,
    );
  });
  it('a run stopped mid-epoch needs the epoch it stopped in', () => {
    // 2 epochs and 3 batches of the third done: --epochs 3 finishes it, --epochs 2 cannot
    expect(checkResumedEpochs('ck', 2, 3, 3, ['epochs'])).toBeUndefined();
    const err = (() => {
      try {
        checkResumedEpochs('ck', 2, 3, 2, undefined);
      } catch (e) {
        return e as ArgumentError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ArgumentError);
    expect(err?.argument).toBe('epochs');
    expect(err?.message).toMatch(
      /2 epochs and 3 batches of epoch 3; --epochs 2 does not finish epoch 3/,
    );
  });
});
