/**
 * `deepprob train`: train a model of the zoo on an image dataset, with a progress bar,
 * validation every epoch, atomic checkpoints and JSONL/CSV logs in `--out`.
 */
import type { Command } from 'commander';
import { MODELS } from '../models/registry.js';
import { DATASETS } from '../data/files.js';
import { runTraining, TRAIN_DEFAULTS, type TrainConfig } from '../train/run.js';
import { cliReady } from './main.js';
import { finiteNumber, oneOf, pct, positiveInt, positiveNumber, integer } from './options.js';

/** Options of `deepprob train` as commander parses them. */
interface TrainCliOptions {
  model: string;
  estimator: 'reparam' | 'local' | 'flipout';
  dataset: string;
  dataDir?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  lrDecay?: number;
  mcSamples: number;
  out?: string;
  resume?: boolean;
  seed: number;
  limit?: number;
  testLimit?: number;
  klWeight: string;
  priorMu?: number;
  priorSigma?: number;
  rhoInit?: number;
  inputSize?: number;
  resize: 'pad' | 'bilinear';
  quiet?: boolean;
  json?: boolean;
  loss?: string;
  evidence?: string;
  ensemble?: number;
}

/** Build the {@link TrainConfig} of parsed options. */
export function trainConfigOf(o: TrainCliOptions): TrainConfig {
  const c: TrainConfig = {
    model: o.model,
    estimator: o.estimator,
    dataset: o.dataset,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    mcSamples: o.mcSamples,
    out: o.out ?? `runs/${o.model}-${o.dataset}`,
    seed: o.seed,
    klWeight: o.klWeight,
    resize: o.resize,
  };
  if (o.dataDir !== undefined) c.dataDir = o.dataDir;
  if (o.lrDecay !== undefined) c.lrDecay = o.lrDecay;
  if (o.limit !== undefined) c.limit = o.limit;
  if (o.testLimit !== undefined) c.testLimit = o.testLimit;
  if (o.priorMu !== undefined) c.priorMu = o.priorMu;
  if (o.priorSigma !== undefined) c.priorSigma = o.priorSigma;
  if (o.rhoInit !== undefined) c.rhoInit = o.rhoInit;
  if (o.inputSize !== undefined) c.inputSize = o.inputSize;
  if (o.loss !== undefined) c.evidentialLoss = o.loss;
  if (o.evidence !== undefined) c.evidence = o.evidence;
  return c;
}

/** Register `train` on `program`. */
export function register(program: Command): void {
  program
    .command('train')
    .description('train a model of the zoo (plain, Bayesian or evidential) on an image dataset')
    .option('--model <name>', `model: ${Object.keys(MODELS).join(' | ')}`, 'bayes-lenet5')
    .option(
      '--estimator <name>',
      'Bayesian estimator: reparam | local | flipout',
      oneOf(['reparam', 'local', 'flipout'] as const),
      TRAIN_DEFAULTS.estimator,
    )
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
    .option('--resume', 'continue from the checkpoint in --out')
    .option('--seed <n>', 'seed of shuffling and weight sampling', integer, TRAIN_DEFAULTS.seed)
    .option('--limit <n>', 'use only the first N training images (quick runs)', positiveInt)
    .option('--test-limit <n>', 'use only the first N test images', positiveInt)
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
      if (o.ensemble !== undefined && o.ensemble > 1) {
        for (let i = 1; i <= o.ensemble; i++) {
          const member = { ...config, seed: config.seed + i - 1, out: `${config.out}/member-${i}` };
          const r = await runTraining(member, {
            resume: o.resume ?? false,
            quiet: o.quiet ?? false,
          });
          r.model.dispose();
          console.log(`member ${i}: ${r.checkpoint}`);
        }
        const dirs = Array.from({ length: o.ensemble }, (_, i) => `${config.out}/member-${i + 1}`);
        console.log(`evaluate with: deepprob shift --methods ens=ensemble:${dirs.join(',')}`);
        return;
      }
      const r = await runTraining(config, { resume: o.resume ?? false, quiet: o.quiet ?? false });
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
