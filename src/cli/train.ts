/**
 * `deepprob train`: train a model of the zoo on an image dataset, with a progress bar,
 * validation every epoch, atomic checkpoints and JSONL/CSV logs in `--out`.
 */
import type { Command } from 'commander';
import { BAYES_LENET5_RECIPE, MODELS } from '../models/registry.js';
import { DATASETS } from '../data/files.js';
import { runTraining, TRAIN_DEFAULTS, withModelRecipe, type TrainConfig } from '../app/index.js';
import { cliReady } from './main.js';
import {
  recipeEstimatorOption,
  help,
  inputSizeOption,
  klWeightOption,
  oneOf,
  pct,
  ranged,
  type InputSize,
} from './options.js';
import { disposeModel } from '../layers/dispose_model.js';

/** Options of `deepprob train` as commander parses them: the run configuration and the CLI's flags. */
type TrainCliOptions = Omit<TrainConfig, 'out' | 'evidentialLoss' | 'inputSize' | 'inputWidth'> & {
  /** `--input-size`: one side, or `[height, width]` from `HxW`. */
  inputSize?: InputSize;
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
  const { out, resume, resumeOrStart, force, quiet, json, loss, ensemble, inputSize, ...config } =
    o;
  void resume;
  void resumeOrStart;
  void force;
  void quiet;
  void json;
  void ensemble;
  return withModelRecipe({
    ...config,
    out: out ?? `runs/${o.model}-${o.dataset}`,
    ...(typeof inputSize === 'number' ? { inputSize } : {}),
    ...(Array.isArray(inputSize) ? { inputSize: inputSize[0], inputWidth: inputSize[1] } : {}),
    ...(loss !== undefined ? { evidentialLoss: loss } : {}),
  });
}

/** Register `train` on `program`. */
export function register(program: Command): void {
  program
    .command('train')
    .description('train a model of the zoo (plain, Bayesian or evidential) on an image dataset')
    .option('--model <name>', `model: ${Object.keys(MODELS).join(' | ')}`, 'bayes-lenet5')
    .option(...recipeEstimatorOption('Bayesian estimator'))
    .option('--dataset <name>', `dataset: ${DATASETS.join(' | ')}`, TRAIN_DEFAULTS.dataset)
    .option('--data-dir <dir>', 'directory with the dataset files (default: bundled source)')
    .option(
      '--epochs <n>',
      help('epochs to train (in total, also when resuming)', 'epochs'),
      ranged('epochs'),
      5,
    )
    .option(
      '--batch-size <n>',
      help('mini-batch size', 'batch-size'),
      ranged('batch-size'),
      TRAIN_DEFAULTS.batchSize,
    )
    .option(
      '--lr <x>',
      help(
        `Adam learning rate (default: the model's recipe, bayes-lenet5 ${BAYES_LENET5_RECIPE.lr}; else ${TRAIN_DEFAULTS.lr})`,
        'lr',
      ),
      ranged('lr'),
    )
    .option(
      '--lr-decay <f>',
      help(
        "multiply the learning rate by f after every epoch (default: the model's recipe, bayes-lenet5 to 0.13x by the last epoch, 0.6 over 5 epochs; else 1)",
        'lr-decay',
      ),
      ranged('lr-decay'),
    )
    .option(
      '--mc-samples <n>',
      help('MC samples of the validation predictive', 'mc-samples'),
      ranged('mc-samples'),
      10,
    )
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
    .option(
      '--seed <n>',
      help('seed of shuffling and weight sampling', 'seed'),
      ranged('seed'),
      TRAIN_DEFAULTS.seed,
    )
    .option(
      '--limit <n>',
      help('use only the first N training images (quick runs)', 'limit'),
      ranged('limit'),
    )
    .option(
      '--test-limit <n>',
      help(
        'use only the first N test images (default with --limit: the same fraction of the test set)',
        'test-limit',
      ),
      ranged('test-limit'),
    )
    .option(
      '--kl-weight <w>',
      help(
        'ELBO KL weight: a number, or blundell | uniform (alias standard) | soenderby (warm-up) | constant (= 1)',
        'kl-weight',
      ),
      klWeightOption,
      '1',
    )
    .option(
      '--prior-mu <x>',
      help('mean of the Normal weight prior (default 0)', 'prior-mu'),
      ranged('prior-mu'),
    )
    .option(
      '--prior-sigma <x>',
      help('std of the Normal weight prior (default 0.1)', 'prior-sigma'),
      ranged('prior-sigma'),
    )
    .option(
      '--rho-init <x>',
      help(
        "mean of the initial posterior rho, sigma = softplus(rho) (default: the model's recipe, bayes-lenet5 -5; else -3)",
        'rho-init',
      ),
      ranged('rho-init'),
    )
    .option(
      '--rho-lr-scale <k>',
      help(
        'Bayesian models: the learning rate of the posterior scales rho is lr * k (default 1)',
        'rho-lr-scale',
      ),
      ranged('rho-lr-scale'),
    )
    .option(
      '--train-samples <n>',
      help(
        'Bayesian models: weight samples per training step, the data term averaged over them (default 1)',
        'train-samples',
      ),
      ranged('train-samples'),
    )
    .option(
      '--input-size <n|HxW>',
      help(
        "input side, or height x width for non-square inputs (default: the model's, 32 for LeNet5)",
        'input-size',
      ),
      inputSizeOption,
    )
    .option(
      '--activation <fn>',
      "hidden activation of lenet5, alexnet, 3conv3fc and their bayes- twins: relu | softplus (default: the model's; 3conv3fc and alexnet use BayesianCNN's softplus, which stays near chance on short runs: relu trains quickly)",
      oneOf(['relu', 'softplus'] as const),
    )
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
      help(
        'train a deep ensemble: n members in OUT/member-<i>, seeded seed + i - 1 (i = 1..n)',
        'ensemble',
      ),
      ranged('ensemble'),
    )
    .option('--quiet', 'no progress bar')
    .option(
      '--json',
      'print the final metrics as JSON on stdout (with --ensemble: {ensemble, out, seconds, members: [{member, seed, checkpoint, seconds, ...metrics}], evaluate})',
    )
    .addHelpText(
      'after',
      '\nExample:\n  deepprob train --model bayes-lenet5 --estimator flipout --dataset mnist --epochs 5 --out runs/bnn',
    )
    .action(async (o: TrainCliOptions, cmd: Command) => {
      await cliReady(program);
      const config = trainConfigOf(o);
      // the options given on the command line (not commander's defaults): a resumed run checks them
      const explicit = Object.keys(o)
        .filter((k) => cmd.getOptionValueSource(k) === 'cli')
        .flatMap((k) =>
          k === 'loss' ? ['evidentialLoss'] : k === 'inputSize' ? ['inputSize', 'inputWidth'] : [k],
        );
      const runOptions = {
        explicit,
        resume: o.resume ?? false,
        resumeOrStart: o.resumeOrStart ?? false,
        force: o.force ?? false,
        quiet: o.quiet ?? false,
        handleSignals: true,
      };
      if (o.ensemble !== undefined && o.ensemble > 1) {
        // --json: one JSON object on stdout, as a single run prints (its fields per member)
        const members: Record<string, unknown>[] = [];
        for (let i = 1; i <= o.ensemble; i++) {
          const member = { ...config, seed: config.seed + i - 1, out: `${config.out}/member-${i}` };
          const r = await runTraining(member, runOptions);
          disposeModel(r.model);
          const last = r.records[r.records.length - 1];
          members.push({
            member: i,
            seed: member.seed,
            checkpoint: r.checkpoint,
            seconds: r.seconds,
            ...last,
          });
          if (o.json !== true) console.log(`member ${i}: ${r.checkpoint}`);
        }
        const dirs = Array.from({ length: o.ensemble }, (_, i) => `${config.out}/member-${i + 1}`);
        const evaluate = `deepprob shift --methods ens=ensemble:${dirs.join(',')}`;
        if (o.json === true) {
          const seconds = members.reduce((t, m) => t + (m.seconds as number), 0);
          console.log(
            JSON.stringify({ ensemble: o.ensemble, out: config.out, seconds, members, evaluate }),
          );
          return;
        }
        console.log(`evaluate with: ${evaluate}`);
        return;
      }
      const r = await runTraining(config, runOptions);
      const last = r.records[r.records.length - 1];
      disposeModel(r.model);
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
