/**
 * Audit (#16, fresh eyes): a run's `state.json` edited by hand and its manifest rewritten (so the
 * integrity check passes), as the issue's `model` field edit: the saved model name of another
 * kind (a Bayesian run relabelled plain, which would evaluate and resume it under the wrong
 * objective), a saved configuration out of its ranges. `eval` and `--resume` must refuse naming
 * `state.json` and the field, leaking nothing.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runEvaluation, runTraining, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { writeManifest } from '../../src/train/manifest.js';
import { DeepProbError } from '../../src/utils/errors.js';
import { idxDataset } from '../idx_fixture.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit14-state-'));
let data: string;
let bayesRun: string;

beforeAll(async () => {
  data = idxDataset({ count: 32 }, { count: 16 });
  bayesRun = tmp();
  const r = await runTraining(
    {
      ...TRAIN_DEFAULTS,
      model: 'bayes-lenet5',
      dataset: 'mnist',
      dataDir: data,
      out: bayesRun,
      epochs: 1,
      batchSize: 16,
      mcSamples: 1,
    },
    { quiet: true },
  );
  r.model.dispose();
}, 120_000);

/** A copy of the run with `state.json`'s config changed and the manifest rewritten. */
function edited(change: (config: Record<string, unknown>) => void): string {
  const run = tmp();
  const ck = join(run, 'checkpoint');
  const src = join(bayesRun, 'checkpoint');
  mkdirSync(ck);
  for (const f of readdirSync(src)) copyFileSync(join(src, f), join(ck, f));
  const st = JSON.parse(readFileSync(join(ck, 'state.json'), 'utf8')) as {
    config: Record<string, unknown>;
  };
  change(st.config);
  writeFileSync(join(ck, 'state.json'), JSON.stringify(st));
  writeManifest(ck);
  return run;
}

async function refusal(call: () => Promise<unknown>): Promise<Error> {
  const before = tf.memory().numTensors;
  const err = await call().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(tf.memory().numTensors).toBe(before);
  expect(err, 'the call succeeded').toBeDefined();
  expect(err, err?.message).toBeInstanceOf(DeepProbError);
  return err as Error;
}

describe('an edited state.json (manifest rewritten)', () => {
  it('a Bayesian run relabelled as the plain lenet5 is refused by eval and --resume, naming state.json', async () => {
    const run = edited((c) => {
      c.model = 'lenet5';
      delete c.estimator;
    });
    const e1 = await refusal(() => runEvaluation({ checkpoint: run, limit: 8 }, { quiet: true }));
    expect(e1.message).toMatch(/state\.json/);
    expect(e1.message).toMatch(/lenet5/);
    const e2 = await refusal(() =>
      runTraining(
        { ...TRAIN_DEFAULTS, model: 'lenet5', dataDir: data, out: run, epochs: 2 },
        { quiet: true, resume: true },
      ),
    );
    expect(e2.message).toMatch(/state\.json/);
  });

  it('an unknown model name and a saved configuration out of range are refused naming the field', async () => {
    const e1 = await refusal(() =>
      runEvaluation({ checkpoint: edited((c) => void (c.model = 'resnet-9000')) }, { quiet: true }),
    );
    expect(e1.message).toMatch(/resnet-9000/);
    const e2 = await refusal(() =>
      runTraining(
        {
          ...TRAIN_DEFAULTS,
          model: 'bayes-lenet5',
          dataDir: data,
          out: edited((c) => void (c.batchSize = -4)),
          epochs: 2,
        },
        { quiet: true, resume: true },
      ),
    );
    expect(e2.message).toMatch(/batchSize|batch-size/);
  });
});
