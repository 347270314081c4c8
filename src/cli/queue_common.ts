/**
 * What the queue commands (`ensemble`, `sweep`, `score`) share: `--redis` / `--store` options,
 * the choice of executor (BullMQ when a Redis URL is given, else in-process), running a flow with
 * a progress bar, and the training options of `ensemble` (those of `deepprob train`).
 */
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { TRAIN_DEFAULTS, withModelRecipe, type TrainConfig } from '../app/run_config.js';
import { DATASETS } from '../data/files.js';
import { MODELS } from '../models/registry.js';
import type { Aggregate } from '../queue/aggregate.js';
import { BullExecutor, DEFAULT_REDIS_TIMEOUT_MS } from '../queue/bull_executor.js';
import { checkQueueName, QUEUE_NAME, REDIS_ENV, redisUrlOf } from '../queue/redis_url.js';
import { flowProgressBar, LocalExecutor, type Executor } from '../queue/executor.js';
import type { FlowSpec } from '../queue/jobs.js';
import {
  recipeEstimatorOption,
  help,
  inputSizeOption,
  oneOf,
  positiveInt,
  positiveNumber,
  ranged,
} from './options.js';

/** Options every submit command has. */
export interface QueueCliOptions {
  redis?: string;
  /** Queue name (the workers' `--queue`). */
  queue: string;
  store: string;
  attempts?: number;
  quiet?: boolean;
  json?: boolean;
  /** Seconds to wait for a silent Redis (`--redis-timeout`). */
  redisTimeout?: number;
}

/** Parse `--queue` (a name without `:`), as commander's error naming the option. */
function queueName(value: string): string {
  try {
    return checkQueueName(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message.replace(/^--queue: /, ''));
  }
}

/**
 * Add `--queue <name>` (default `deepprob`), the same on workers, submitters and `queue`
 * commands.
 * @param what the help text.
 */
export function addQueueNameOption(cmd: Command, what = 'queue name'): Command {
  return cmd.option('--queue <name>', what, queueName, QUEUE_NAME);
}

/**
 * Add `--redis`, `--queue`, `--store`, `--attempts`, `--redis-timeout`, `--quiet`, `--json` to a
 * submit command.
 */
export function addQueueOptions(cmd: Command): Command {
  return addQueueNameOption(
    cmd.option(
      '--redis <url>',
      `Redis URL of the job queue (default $${REDIS_ENV}; none: run in-process)`,
    ),
    "queue name: the workers' --queue (queue only)",
  )
    .option(
      '--store <dir>',
      'shared result store (a directory every worker can reach)',
      'runs/queue',
    )
    .option('--attempts <n>', 'attempts per job before it fails (queue only)', positiveInt, 3)
    .option(
      '--redis-timeout <s>',
      'give up when Redis does not answer for this many seconds, at the start or during an ' +
        'outage; the queued jobs and results are kept (queue only)',
      positiveNumber,
      DEFAULT_REDIS_TIMEOUT_MS / 1000,
    )
    .option('--quiet', 'no progress bar')
    .option('--json', 'print the aggregate as JSON on stdout');
}

/** Run `flow` on the executor its options ask for, with a progress bar unless quiet. */
export async function runFlowCli(
  flow: FlowSpec,
  o: QueueCliOptions,
  label: string,
): Promise<Aggregate> {
  const url = redisUrlOf(o.redis);
  const executor: Executor =
    url !== undefined
      ? new BullExecutor(url, {
          attempts: o.attempts ?? 3,
          queue: o.queue,
          ...(o.redisTimeout !== undefined ? { redisTimeoutMs: o.redisTimeout * 1000 } : {}),
        })
      : new LocalExecutor();
  console.error(
    `deepprob: ${label}: ${flow.jobs.length} jobs on ${executor.name}` +
      `${url !== undefined ? ` (queue ${o.queue})` : ''}, results in ${flow.store}`,
  );
  const bar = o.quiet === true ? undefined : flowProgressBar(label, flow.jobs.length);
  try {
    return await executor.run(flow, bar?.update);
  } finally {
    bar?.stop();
    await executor.close();
  }
}

/** Training options of `ensemble` as commander parses them. */
export type TrainingCliOptions = Omit<TrainConfig, 'out'>;

/** Add the training options of `deepprob train` (those that define a run) to `cmd`. */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option('--model <name>', `model: ${Object.keys(MODELS).join(' | ')}`, 'bayes-lenet5')
    .option(...recipeEstimatorOption('Bayesian estimator'))
    .option('--dataset <name>', `dataset: ${DATASETS.join(' | ')}`, TRAIN_DEFAULTS.dataset)
    .option('--data-dir <dir>', 'directory with the dataset files (default: bundled source)')
    .option('--epochs <n>', help('epochs to train', 'epochs'), ranged('epochs'), 5)
    .option(
      '--batch-size <n>',
      help('mini-batch size', 'batch-size'),
      ranged('batch-size'),
      TRAIN_DEFAULTS.batchSize,
    )
    .option(
      '--lr <x>',
      help("Adam learning rate (default: the model's recipe, else 0.001)", 'lr'),
      ranged('lr'),
    )
    .option(
      '--lr-decay <f>',
      help('multiply the learning rate by f after every epoch', 'lr-decay'),
      ranged('lr-decay'),
    )
    .option(
      '--mc-samples <n>',
      help('MC samples of validation and of the predictive', 'mc-samples'),
      ranged('mc-samples'),
      10,
    )
    .option(
      '--seed <n>',
      help('seed of member 0 (member i: seed + i)', 'seed'),
      ranged('seed'),
      TRAIN_DEFAULTS.seed,
    )
    .option('--limit <n>', help('use only the first N training images', 'limit'), ranged('limit'))
    .option(
      '--test-limit <n>',
      help('use only the first N test images', 'test-limit'),
      ranged('test-limit'),
    )
    .option(
      '--kl-weight <w>',
      'ELBO KL weight: a number, or blundell | uniform (alias standard) | soenderby | constant (= 1)',
      '1',
    )
    .option(
      '--prior-mu <x>',
      help('mean of the Normal weight prior', 'prior-mu'),
      ranged('prior-mu'),
    )
    .option(
      '--prior-sigma <x>',
      help('std of the Normal weight prior', 'prior-sigma'),
      ranged('prior-sigma'),
    )
    .option(
      '--rho-init <x>',
      help('mean of the initial posterior rho', 'rho-init'),
      ranged('rho-init'),
    )
    .option(
      '--input-size <n|HxW>',
      "input side, or height x width (default: the model's)",
      inputSizeOption,
    )
    .option(
      '--activation <fn>',
      "hidden activation of lenet5, alexnet, 3conv3fc and their bayes- twins: relu | softplus (default: the model's)",
      oneOf(['relu', 'softplus'] as const),
    )
    .option(
      '--resize <how>',
      'reach the input size by pad | bilinear',
      oneOf(['pad', 'bilinear'] as const),
      'pad',
    );
}

/** The training configuration among parsed options (commander leaves absent options out). */
export function trainingConfigOf(o: Record<string, unknown>): Omit<TrainConfig, 'out'> {
  const keys = [
    'model',
    'estimator',
    'dataset',
    'dataDir',
    'epochs',
    'batchSize',
    'lr',
    'lrDecay',
    'mcSamples',
    'seed',
    'limit',
    'testLimit',
    'klWeight',
    'priorMu',
    'priorSigma',
    'rhoInit',
    'inputSize',
    'resize',
    'activation',
  ];
  const c: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) c[k] = o[k];
  // --input-size HxW sets both sides
  if (Array.isArray(c.inputSize)) [c.inputSize, c.inputWidth] = c.inputSize as [number, number];
  // workers run in their own directory: a relative --data-dir is the submitter's
  if (typeof c.dataDir === 'string') c.dataDir = resolve(c.dataDir);
  const w = Number(c.klWeight);
  if (typeof c.klWeight === 'string' && c.klWeight.trim() !== '' && Number.isFinite(w))
    c.klWeight = w;
  // the model's recipe where the command line leaves a setting out (as `deepprob train`)
  return withModelRecipe(c as unknown as Omit<TrainConfig, 'out'>);
}
