/**
 * `deepprob train`: train a model of the zoo on an image dataset, with a progress bar,
 * validation every epoch, atomic checkpoints and JSONL/CSV logs in `--out`.
 */
import type { Command } from 'commander';
import { MODELS } from '../models/registry.js';
import { DATASETS } from '../data/files.js';
import { runTraining, TRAIN_DEFAULTS, type TrainConfig } from '../app/index.js';
import { cliReady } from './main.js';
import {
  estimatorOption,
  finiteNumber,
  oneOf,
  pct,
  positiveInt,
  positiveNumber,
  integer,
} from './options.js';

/** Options of `deepprob train` as commander parses them: the run configuration and the CLI's flags. */
type TrainCliOptions = Omit<TrainConfig, 'out' | 'evidentialLoss'> & {
  out?: string;
  resume?: boolean;
  resumeOrStart?: boolean;
  force?: boolean;
  quiet?: boolean;
  json?: boolean;
  loss?: string;
  ensemble?: number;
};

/** Build the {@link TrainConfig} of parsed options (`--out` defaults to `runs/<model>-<dataset>`). */
export function trainConfigOf(o: TrainCliOptions): TrainConfig {
  const { out, resume, resumeOrStart, force, quiet, json, loss, ensemble, ...config } = o;
  void resume;
  void resumeOrStart;
  void force;
  void quiet;
  void json;
  void ensemble;
  return {
    ...config,
    out: out ?? `runs/${o.model}-${o.dataset}`,
    ...(loss !== undefined ? { evidentialLoss: loss } : {}),
  };
}

/** Register `train` on `program`. */
export function register(program: Command): void {
  program
    .command('train')
    .description('train a model of the zoo (plain, Bayesian or evidential) on an image dataset')
    .option('--model <name>', `model: ${Object.keys(MODELS).join(' | ')}`, 'bayes-lenet5')
    .option(...estimatorOption('Bayesian estimator'))
    .option('--dataset <name>', `dataset: ${DATASETS.join(' | ')}`, TRAIN_DEFAULTS.dataset)
    .option('--data-dir <dir>', 'directory with the dataset files (default: bundled source)')
    .option('--epochs <n>', 'epochs to train (in total, also when resuming)', positiveInt, 5)
    .option('--batch-size <n>', 'mini-batch size', positiveInt, TRAIN_DEFAULTS.batchSize)
    .option('--lr <x>', 'Adam learning rate', positiveNumber, TRAIN_DEFAULTS.lr)
    .option(
      '--lr-decay <f>',
      'multiply the learning rate by f after every epoch (default 1)',
      positiveNumber,
    )
    .option('--mc-samples <n>', 'MC samples of the validation predictive', positiveInt, 10)
    .option(
      '--out <dir>',
      'run directory: checkpoint/, metrics.jsonl, metrics.csv (default runs/<model>-<dataset>)',
    )
    .option('--resume', 'continue from the checkpoint in --out (an error when there is none)')
    .option(
      '--resume-or-start',
      'continue from the checkpoint in --out when there is one, else start',
    )
    .option('--force', 'start over in an --out that already holds a run (replaces its checkpoint)')
    .option('--seed <n>', 'seed of shuffling and weight sampling', integer, TRAIN_DEFAULTS.seed)
    .option('--limit <n>', 'use only the first N training images (quick runs)', positiveInt)
    .option(
      '--test-limit <n>',
      'use only the first N test images (default with --limit: the same fraction of the test set)',
      positiveInt,
    )
    .option(
      '--kl-weight <w>',
      'ELBO KL weight: a number, or blundell | uniform | soenderby (warm-up)',
      '1',
    )
    .option('--prior-mu <x>', 'mean of the Normal weight prior (default 0)', finiteNumber)
    .option('--prior-sigma <x>', 'std of the Normal weight prior (default 0.1)', positiveNumber)
    .option(
      '--rho-init <x>',
      'mean of the initial posterior rho, sigma = softplus(rho) (default -3)',
      finiteNumber,
    )
    .option('--input-size <n>', "input side (default: the model's, 32 for LeNet5)", positiveInt)
    .option(
      '--resize <how>',
      'reach the input size by pad | bilinear',
      oneOf(['pad', 'bilinear'] as const),
      'pad',
    )
    .option(
      '--loss <name>',
      'evidential loss: squared-error-bayes-risk | cross-entropy-bayes-risk | max-likelihood',
    )
    .option('--evidence <fn>', 'evidential evidence function: relu | softplus | exp', 'softplus')
    .option(
      '--ensemble <n>',
      'train a deep ensemble: n members in OUT/member-<i>, seeded seed + i - 1 (i = 1..n)',
      positiveInt,
    )
    .option('--quiet', 'no progress bar')
    .option('--json', 'print the final metrics as JSON on stdout')
    .addHelpText(
      'after',
      '\nExample:\n  deepprob train --model bayes-lenet5 --estimator flipout --dataset mnist --epochs 5 --out runs/bnn',
    )
    .action(async (o: TrainCliOptions) => {
      await cliReady(program);
      const config = trainConfigOf(o);
      const runOptions = {
        resume: o.resume ?? false,
        resumeOrStart: o.resumeOrStart ?? false,
        force: o.force ?? false,
        quiet: o.quiet ?? false,
      };
      if (o.ensemble !== undefined && o.ensemble > 1) {
        for (let i = 1; i <= o.ensemble; i++) {
          const member = { ...config, seed: config.seed + i - 1, out: `${config.out}/member-${i}` };
          const r = await runTraining(member, runOptions);
          r.model.dispose();
          console.log(`member ${i}: ${r.checkpoint}`);
        }
        const dirs = Array.from({ length: o.ensemble }, (_, i) => `${config.out}/member-${i + 1}`);
        console.log(`evaluate with: deepprob shift --methods ens=ensemble:${dirs.join(',')}`);
        return;
      }
      const r = await runTraining(config, runOptions);
      const last = r.records[r.records.length - 1];
      r.model.dispose();
      if (o.json === true) {
        console.log(JSON.stringify({ checkpoint: r.checkpoint, seconds: r.seconds, ...last }));
        return;
      }
      console.log(`checkpoint: ${r.checkpoint}`);
      console.log(`wall time: ${r.seconds.toFixed(1)} s`);
      if (last !== undefined) {
        console.log(`test accuracy (1 pass): ${pct(last.testAccuracy)}`);
        if (last.testAccuracyMean !== undefined) {
          console.log(`test accuracy (posterior mean): ${pct(last.testAccuracyMean)}`);
        }
        if (last.testAccuracyMc !== undefined) {
          console.log(`test accuracy (MC, ${last.mcSamples} samples): ${pct(last.testAccuracyMc)}`);
        }
      }
    });
}
