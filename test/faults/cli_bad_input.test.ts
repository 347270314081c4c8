/**
 * The bad-input table of the `deepprob` program (`npm run test:faults`, #16): every bad command
 * line of every kind (numbers out of range or not numbers, unknown names, missing or conflicting
 * options, missing, foreign or unwritable paths, run ownership, bad datasets) exits non-zero
 * with a clear message naming the option (or file) and what was expected, before any work
 * starts: no stack trace, no raw tfjs / TypeError text, no run folder created. The count of
 * cases that pass is reported in README's reliability section.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runTraining, TRAIN_DEFAULTS } from '../../src/app/index.js';
import { fileIO } from '../../src/utils/file_io.js';
import { idxDataset } from '../idx_fixture.js';
import { runCli } from './cli_runner.js';

/** Paths made once for the table. */
interface Fixture {
  data: string;
  run: string;
  dnn: string;
  notJson: string;
  file: string;
  tmp: () => string;
  /** A folder that does not exist (and must not be created). */
  fresh: () => string;
  bad0x0: string;
  badSize: string;
  badLabels: string;
  badCount: string;
  emptyDir: string;
  /** 40x40 images: larger than the 32x32 input of the default LeNet-5. */
  big: string;
  /** A run whose data folder was removed after training. */
  moved: string;
  /** A run folder whose lock a live process on another host holds (an hour's lease). */
  locked: string;
}

let fx: Fixture;

beforeAll(async () => {
  const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-bad-'));
  const data = idxDataset();
  const run = tmp();
  const r = await runTraining(
    {
      ...TRAIN_DEFAULTS,
      model: 'lenet5',
      dataset: 'mnist',
      dataDir: data,
      out: run,
      epochs: 1,
      batchSize: 32,
      limit: 32,
      mcSamples: 1,
    },
    { quiet: true },
  );
  r.model.dispose();
  // a run trained on a copy of the data, then the copy removed (the folder moved away)
  const gone = join(tmp(), 'data');
  cpSync(data, gone, { recursive: true });
  const moved = tmp();
  const rm = await runTraining(
    {
      ...TRAIN_DEFAULTS,
      model: 'lenet5',
      dataset: 'mnist',
      dataDir: gone,
      out: moved,
      epochs: 1,
      batchSize: 32,
      limit: 32,
      mcSamples: 1,
    },
    { quiet: true },
  );
  rm.model.dispose();
  rmSync(gone, { recursive: true });
  const dnn = tmp();
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
  await m.save(fileIO(dnn));
  m.dispose();
  const junk = tmp();
  const notJson = join(tmp(), 'model.json');
  writeFileSync(notJson, 'this is not json');
  const file = join(junk, 'a-file');
  writeFileSync(file, 'x');
  let n = 0;
  fx = {
    data,
    run,
    dnn: join(dnn, 'model.json'),
    notJson,
    file,
    tmp,
    fresh: () => join(junk, `fresh-${n++}`),
    bad0x0: idxDataset({ count: 8, height: 0, width: 0 }, { count: 8 }),
    badSize: idxDataset({ count: 8 }, { count: 8, height: 10, width: 10 }),
    badLabels: idxDataset({ count: 8 }, { count: 8, badLabel: 200 }),
    badCount: idxDataset({ count: 8, labels: 5 }, { count: 8 }),
    emptyDir: tmp(),
    big: idxDataset({ count: 8, height: 40, width: 40 }, { count: 8, height: 40, width: 40 }),
    moved,
    locked: tmp(),
  };
  const now = new Date().toISOString();
  writeFileSync(
    join(fx.locked, '.lock'),
    JSON.stringify({
      pid: 4242,
      host: 'node-b',
      startedAt: now,
      heartbeatAt: now,
      leaseMs: 3_600_000,
    }),
  );
}, 120_000);

/** One bad command line: the arguments (from the fixture) and the error it must give. */
type Case = [name: string, args: (f: Fixture) => string[], expected: RegExp];

const train = (f: Fixture, ...a: string[]): string[] => [
  'train',
  '--model',
  'lenet5',
  '--data-dir',
  f.data,
  '--limit',
  '32',
  '--epochs',
  '1',
  '--quiet',
  '--out',
  f.fresh(),
  ...a,
];
const opt = (o: string, v: string): RegExp =>
  new RegExp(
    `option '${o} <[\\w|]+>' argument '${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' is invalid\\. expected`,
  );

const numeric: [string, string, string][] = [
  // [command, option, bad value]
  ['train', '--epochs', '0'],
  ['train', '--epochs', '2.5'],
  ['train', '--epochs', 'ten'],
  ['train', '--epochs', '1e9'],
  ['train', '--batch-size', '0'],
  ['train', '--batch-size', '1e6'],
  ['train', '--batch-size', '-8'],
  ['train', '--lr', '0'],
  ['train', '--lr', '-0.001'],
  ['train', '--lr', '1e10'],
  ['train', '--lr', 'NaN'],
  ['train', '--lr-decay', '0'],
  ['train', '--lr-decay', '1.5'],
  ['train', '--mc-samples', '0'],
  ['train', '--mc-samples', '1e7'],
  ['train', '--seed', '-1'],
  ['train', '--seed', '1.5'],
  ['train', '--seed', '1e12'],
  ['train', '--limit', '0'],
  ['train', '--test-limit', '-5'],
  ['train', '--kl-weight', '1e308'],
  ['train', '--kl-weight', '-1'],
  ['train', '--kl-weight', 'Infinity'],
  ['train', '--prior-mu', '1e30'],
  ['train', '--prior-mu', 'abc'],
  ['train', '--prior-sigma', '1e300'],
  ['train', '--prior-sigma', '1e-300'],
  ['train', '--prior-sigma', '0'],
  ['train', '--rho-init', '-1e10'],
  ['train', '--rho-init', '1e10'],
  ['train', '--rho-lr-scale', '0'],
  ['train', '--rho-lr-scale', 'fast'],
  ['train', '--input-size', '100000'],
  ['train', '--input-size', '0'],
  ['train', '--ensemble', '0'],
  ['eval', '--mc-samples', '0'],
  ['eval', '--limit', '-1'],
  ['eval', '--batch-size', '0'],
  ['demo', '--epochs', '0'],
  ['demo', '--ood-limit', '0'],
  ['uncertainty', '--bins', '0'],
  ['uncertainty', '--mc-samples', '1e9'],
  ['shift', '--alpha', '0'],
  ['shift', '--alpha', '1'],
  ['shift', '--limit', '0'],
  ['shift', '--swag-epochs', '0'],
  ['convert', '--moped', '0'],
  ['convert', '--posterior-sigma', '-1'],
  ['convert', '--prior-sigma', '1e300'],
];

const cases: Case[] = [
  ...numeric.map(([cmd, o, v]): Case => [
    `${cmd} ${o} ${v}`,
    (f) =>
      cmd === 'train'
        ? train(f, o, v)
        : cmd === 'convert'
          ? ['convert', '--model', f.dnn, '--out', f.fresh(), o, v]
          : cmd === 'demo'
            ? ['demo', o, v]
            : cmd === 'shift'
              ? ['shift', '--checkpoint', f.run, '--out', f.fresh(), o, v]
              : [cmd, '--checkpoint', f.run, o, v],
    opt(o, v),
  ]),
  // unknown names
  [
    'train --model nope',
    (f) => train(f, '--model', 'nope'),
    /model: expected one of .*lenet5.*got 'nope'/,
  ],
  [
    'train --estimator nope',
    (f) => train(f, '--estimator', 'nope'),
    /--estimator <name>' argument 'nope' is invalid\. expected one of reparam/,
  ],
  ['train --dataset nope', (f) => train(f, '--dataset', 'nope'), /dataset: expected one of mnist/],
  [
    'train --resize nope',
    (f) => train(f, '--resize', 'nope'),
    /--resize <how>' argument 'nope' is invalid/,
  ],
  [
    'train --kl-weight nope',
    (f) => train(f, '--kl-weight', 'nope'),
    /--kl-weight <w>' argument 'nope' is invalid\. expected a number or blundell/,
  ],
  [
    'train --evidence nope',
    (f) => train(f, '--model', 'evidential-lenet', '--evidence', 'nope'),
    /evidence: expected one of relu, softplus, exp/,
  ],
  [
    'train --loss nope',
    (f) => train(f, '--model', 'evidential-lenet', '--loss', 'nope'),
    /loss: expected one of/,
  ],
  [
    'convert --layers nope',
    (f) => ['convert', '--model', f.dnn, '--out', f.fresh(), '--layers', 'nope'],
    /--layers <which>' argument 'nope' is invalid/,
  ],
  [
    'convert --init nope',
    (f) => ['convert', '--model', f.dnn, '--out', f.fresh(), '--init', 'nope'],
    /--init <how>' argument 'nope' is invalid/,
  ],
  [
    'shift --score nope',
    (f) => ['shift', '--checkpoint', f.run, '--score', 'nope'],
    /--score <name>' argument 'nope' is invalid/,
  ],
  [
    'shift --families tilt',
    (f) => ['shift', '--checkpoint', f.run, '--out', f.fresh(), '--families', 'rotation,tilt'],
    /families: expected a list of 'rotation' and 'corruption', got rotation,tilt/,
  ],
  [
    'shift --severities 9',
    (f) => ['shift', '--checkpoint', f.run, '--out', f.fresh(), '--severities', '1,9'],
    /severities: expected corruption severities, integers in 1\.\.5, got 1,9/,
  ],
  [
    'shift --angles x',
    (f) => ['shift', '--checkpoint', f.run, '--out', f.fresh(), '--angles', '45,x'],
    /--angles: expected comma-separated numbers, got 'x' in '45,x'/,
  ],
  [
    'shift --ood nope',
    (f) => ['shift', '--checkpoint', f.run, '--out', f.fresh(), '--ood', 'fashion-mnist,nope'],
    /ood: expected one of .*got 'nope'/,
  ],
  [
    'shift --ood kmnist:DIR with no such folder',
    (f) => ['shift', '--checkpoint', f.run, '--out', f.fresh(), '--ood', 'kmnist:/no/such/dir'],
    /ood: kmnist:\/no\/such\/dir: '\/no\/such\/dir' is not a directory/,
  ],
  [
    'sweep --queue with a colon',
    (f) => ['sweep', '--grid', f.file, '--queue', 'jobs:1', '--redis', 'redis://127.0.0.1:1'],
    /option '--queue <name>' argument 'jobs:1' is invalid\. expected a queue name without ':'/,
  ],
  [
    'eval --dataset nope',
    (f) => ['eval', '--checkpoint', f.run, '--dataset', 'nope'],
    /dataset: expected one of mnist/,
  ],
  [
    'uncertainty --ood nope',
    (f) => ['uncertainty', '--checkpoint', f.run, '--out', f.fresh(), '--ood', 'nope'],
    /ood: expected one of/,
  ],
  [
    '--backend nope',
    () => ['--backend', 'nope', 'info'],
    /DEEPPROB_BACKEND\/backend: backend 'nope' is not usable/,
  ],
  ['an unknown command', () => ['trian'], /unknown command 'trian'/],
  ['an unknown option', (f) => train(f, '--epoch', '3'), /unknown option '--epoch'/],
  // missing or conflicting options
  [
    'eval without --checkpoint',
    () => ['eval'],
    /required option '--checkpoint <dir>' not specified/,
  ],
  [
    'convert without --out',
    (f) => ['convert', '--model', f.dnn],
    /required option '--out <dir>' not specified/,
  ],
  [
    'convert --moped with --posterior-sigma',
    (f) => [
      'convert',
      '--model',
      f.dnn,
      '--out',
      f.fresh(),
      '--moped',
      '0.1',
      '--posterior-sigma',
      '0.1',
    ],
    /either --moped or --posterior-sigma/,
  ],
  [
    'train --epochs without a value',
    () => ['train', '--epochs'],
    /option '--epochs <n>' argument missing/,
  ],
  // paths
  [
    'train --data-dir missing',
    (f) => train(f, '--data-dir', join(f.emptyDir, 'none')),
    /data-dir: '.*none' does not exist; expected the folder of the mnist files: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte/,
  ],
  [
    'train --data-dir relative and missing',
    (f) => train(f, '--data-dir', 'no/such/data'),
    /data-dir: 'no\/such\/data' \(resolved: \/.*\/no\/such\/data\) does not exist; expected the folder of the mnist files/,
  ],
  [
    'train --data-dir a file',
    (f) => train(f, '--data-dir', f.file),
    /data-dir: '.*a-file' is not a directory; expected the folder of the mnist files/,
  ],
  [
    'eval --data-dir missing',
    (f) => ['eval', '--checkpoint', f.run, '--data-dir', join(f.emptyDir, 'none')],
    /data-dir: '.*none' does not exist; expected the folder of the mnist files/,
  ],
  [
    'uncertainty --data-dir missing',
    (f) => [
      'uncertainty',
      '--checkpoint',
      f.run,
      '--data-dir',
      join(f.emptyDir, 'none'),
      '--out',
      f.fresh(),
    ],
    /data-dir: '.*none' does not exist; expected the folder of the mnist files/,
  ],
  [
    'eval of a run whose data folder is gone',
    (f) => ['eval', '--checkpoint', f.moved],
    /data-dir: '.*data', the run's, saved in .*state\.json, does not exist; expected the folder of the mnist files/,
  ],
  [
    'train --data-dir without the files',
    (f) => train(f, '--data-dir', f.emptyDir),
    /none of train-images-idx3-ubyte/,
  ],
  ['train --out a file', (f) => [...train(f), '--out', f.file], /out: cannot write to .*a-file/],
  [
    'train --out under /proc',
    (f) => [...train(f), '--out', '/proc/x/run'],
    /out: cannot write to \/proc\/x\/run/,
  ],
  [
    'eval --checkpoint missing',
    (f) => ['eval', '--checkpoint', f.fresh()],
    /checkpoint: no model\.json in/,
  ],
  [
    'eval --checkpoint of a non-run',
    (f) => ['eval', '--checkpoint', f.emptyDir],
    /checkpoint: .*(no checkpoint|model\.json)/i,
  ],
  [
    'uncertainty --checkpoint missing',
    (f) => ['uncertainty', '--checkpoint', f.fresh()],
    /checkpoint: /,
  ],
  [
    'shift --checkpoint missing',
    (f) => ['shift', '--checkpoint', f.fresh(), '--out', f.fresh()],
    /checkpoint|methods|plain/,
  ],
  [
    'convert --model missing',
    (f) => ['convert', '--model', join(f.emptyDir, 'model.json'), '--out', f.fresh()],
    /model: cannot load a TF\.js layers model from .*model\.json/,
  ],
  [
    'convert --model not JSON',
    (f) => ['convert', '--model', f.notJson, '--out', f.fresh()],
    /model: cannot load a TF\.js layers model from .*model\.json/,
  ],
  [
    'convert --out the source folder',
    (f) => ['convert', '--model', f.dnn, '--out', join(f.dnn, '..')],
    /out: .* is the folder of the source model/,
  ],
  [
    'convert --out the source folder spelled with ..',
    (f) => ['convert', '--model', f.dnn, '--out', join(f.dnn, '..', 'x', '..')],
    /out: .* is the folder of the source model/,
  ],
  // run ownership
  [
    'train --resume without a run',
    (f) => [...train(f), '--resume'],
    /resume: .*does not exist.*--resume-or-start/,
  ],
  [
    'train --resume on a folder without a checkpoint',
    (f) => [...train(f), '--out', f.emptyDir, '--resume'],
    /resume: no checkpoint in/,
  ],
  [
    'train over an existing run',
    (f) => [...train(f), '--out', f.run],
    /out: .*already holds a run.*--resume.*--force/,
  ],
  [
    'train into a folder a live process on another host holds',
    (f) => [...train(f), '--out', f.locked],
    /deepprob-bad-\w+ is in use by process 4242 on node-b since .*; its lease expires at .* \(in 3[5-6]\d\d s\)/,
  ],
  // bad datasets
  [
    'train on 0x0 images',
    (f) => train(f, '--data-dir', f.bad0x0),
    /data-dir: .*train-images-idx3-ubyte.*at least 1x1/,
  ],
  [
    'train with test images of another size',
    (f) => train(f, '--data-dir', f.badSize),
    /data-dir: .*t10k-images-idx3-ubyte.*size 12x12/,
  ],
  [
    'train with a label out of range',
    (f) => train(f, '--data-dir', f.badLabels),
    /t10k-labels-idx1-ubyte: label 200 \(index 7\) out of range: mnist\/test has 10 classes.*dataset 'idx'/,
  ],
  [
    'train with fewer labels than images',
    (f) => train(f, '--data-dir', f.badCount),
    /train-labels-idx1-ubyte: has 5 labels but .* has 8 images/,
  ],
  [
    'train --input-size too small for the model',
    (f) => train(f, '--model', 'alexnet', '--input-size', '16'),
    /input-size: alexnet takes inputs of at least 29x29 .*got 16; give --input-size 29 or more/,
  ],
  [
    "train --input-size one below AlexNet's minimum",
    (f) => train(f, '--model', 'bayes-alexnet', '--input-size', '28'),
    /input-size: bayes-alexnet takes inputs of at least 29x29 .*got 28/,
  ],
  [
    "train --input-size one below 3Conv3FC's minimum",
    (f) => train(f, '--model', '3conv3fc', '--input-size', '22'),
    /input-size: 3conv3fc takes inputs of at least 23x23 .*got 22/,
  ],
  [
    "train --input-size far below bayes-3conv3fc's minimum",
    (f) => train(f, '--model', 'bayes-3conv3fc', '--input-size', '8'),
    /input-size: bayes-3conv3fc takes inputs of at least 23x23 .*got 8/,
  ],
  [
    'train on images larger than the input size',
    (f) => train(f, '--data-dir', f.big),
    /input-size: cannot pad the 40x40 images of .*train-images-idx3-ubyte to lenet5's 32x32 input; give --input-size 40 or more, or --resize bilinear to shrink them/,
  ],
  [
    "eval on images larger than the checkpoint's input",
    (f) => ['eval', '--checkpoint', f.run, '--data-dir', f.big],
    /resize: the checkpoint's lenet5 takes 32x32 inputs .*40x40 images of .*t10k-images-idx3-ubyte are larger; pass --resize bilinear to shrink them/,
  ],
  // options the model's kind does not read
  [
    'train --kl-weight for a plain model',
    (f) => train(f, '--kl-weight', '0.5'),
    /kl-weight: --kl-weight applies to bayesian models only \(bayes-lenet5, bayes-alexnet, bayes-3conv3fc\); lenet5 is a plain model and would ignore it/,
  ],
  ...(
    [
      ['--estimator', 'flipout'],
      ['--prior-mu', '0.1'],
      ['--prior-sigma', '0.5'],
      ['--rho-init', '-4'],
      ['--rho-lr-scale', '10'],
      ['--train-samples', '2'],
    ] as const
  ).map(([o, v]): Case => [
    `train ${o} for a plain model`,
    (f) => train(f, o, v),
    new RegExp(`${o.slice(2)}: ${o} applies to bayesian models only .*lenet5 is a plain model`),
  ]),
  [
    'ensemble --kl-weight for a plain model (at submit)',
    (f) => [
      'ensemble',
      '--members',
      '2',
      '--model',
      'lenet5',
      '--kl-weight',
      '0.5',
      '--store',
      join(f.emptyDir, 'store'),
    ],
    /kl-weight: --kl-weight applies to bayesian models only .*lenet5 is a plain model/,
  ],
  [
    'train --loss for a Bayesian model',
    (f) => train(f, '--model', 'bayes-lenet5', '--loss', 'max-likelihood'),
    /loss: --loss applies to evidential models only \(evidential-lenet\); bayes-lenet5 is a bayesian model/,
  ],
  [
    'train --evidence for a plain model',
    (f) => train(f, '--evidence', 'exp'),
    /evidence: --evidence applies to evidential models only .*lenet5 is a plain model/,
  ],
];

const RAW =
  /TypeError|RangeError|ReferenceError|Cannot read prop|undefined is not|is not a function|Invalid typed array|Error when checking|broadcast|tfjs|Negative dimension/i;
const STACK = /\n\s+at .*(\(|:\d+:\d+)/;

describe(`deepprob: ${cases.length} bad command lines give a clear error`, () => {
  for (const [name, args, expected] of cases) {
    it(name, async () => {
      const a = args(fx);
      const outAt = a.indexOf('--out');
      const out = outAt >= 0 ? a[outAt + 1] : undefined;
      const fresh = out !== undefined && !existsSync(out);
      const r = await runCli(a);
      // the backend banner names tfjs; the error is what follows it
      r.stderr = r.stderr.replace(/^deepprob: backend .*$/m, '').trim();
      expect(r.code, `${name}: exit code\n${r.stderr}`).not.toBe(0);
      expect(r.stderr, name).toMatch(expected);
      expect(r.stderr, `${name}: raw message`).not.toMatch(RAW);
      expect(r.stderr, `${name}: stack trace`).not.toMatch(STACK);
      if (fresh) expect(existsSync(out as string), `${name}: ${out} left behind`).toBe(false);
    });
  }
});

it('README reports the count of this table', () => {
  const readme = readFileSync('README.md', 'utf8');
  expect(readme).toContain(`${cases.length} of ${cases.length} give a clear error`);
});
