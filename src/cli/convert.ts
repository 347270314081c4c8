/**
 * `deepprob convert`: DNN -> BNN conversion of a model saved by TF.js's `model.save` (a
 * `model.json` with its weight files, e.g. from `tfjs-node`'s `file://` handler or the
 * `tensorflowjs` converter): every Dense and/or Conv2D layer becomes a Bayesian layer whose
 * posterior means are the DNN's weights, the summary is printed, and the Bayesian model is saved
 * (each file written atomically) into `--out`, loadable with `tf.loadLayersModel` once deepprob's
 * layers are imported.
 */
import { basename, dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, type Command } from 'commander';
import { fileIO } from '../train/file_io.js';
import { transformToBnn, type Estimator, type TransformToBnnOptions } from '../transforms/index.js';
import { ArgumentError } from '../utils/errors.js';
import { cliReady } from './main.js';
import { estimatorOption, oneOf, positiveNumber } from './options.js';

/** Options of `deepprob convert`. */
export interface ConvertCliOptions {
  model: string;
  out: string;
  layers: 'dense' | 'conv' | 'all';
  estimator: Estimator;
  moped?: number;
  posteriorSigma?: number;
  init: 'dnn' | 'fresh';
  mopedPrior?: boolean;
  priorSigma?: number;
}

/** What {@link convertFile} did. */
export interface ConvertFileResult {
  /** The listing of the Bayesian model. */
  summary: string;
  /** Names of the layers that became Bayesian. */
  converted: string[];
  /** Directory the model was saved into. */
  out: string;
}

/**
 * Load `options.model` (a `model.json` saved by `model.save`), convert it and save the Bayesian
 * model into `options.out` (`model.json` + `weights.bin`, each written atomically). The
 * conversion options are recorded in the saved model's `userDefinedMetadata.dnnToBnn`.
 * @param options the CLI options.
 * @returns the summary and the converted layer names.
 * @example
 * ```ts
 * await convertFile({ model: 'lenet/model.json', out: 'bnn', layers: 'all',
 *                     estimator: 'flipout', init: 'dnn' });
 * ```
 */
export async function convertFile(options: ConvertCliOptions): Promise<ConvertFileResult> {
  if (options.moped !== undefined && options.posteriorSigma !== undefined) {
    throw new ArgumentError('moped', 'give either --moped or --posterior-sigma, not both');
  }
  const path = resolve(options.model);
  let dnn: tf.LayersModel;
  try {
    dnn = await tf.loadLayersModel(fileIO(dirname(path), { modelFile: basename(path) }));
  } catch (e) {
    throw new ArgumentError(
      'model',
      `cannot load a TF.js layers model from ${path}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  try {
    const conv: TransformToBnnOptions = {
      layers: options.layers,
      estimator: options.estimator,
      init: options.init,
      mopedPrior: options.mopedPrior === true,
    };
    if (options.moped !== undefined) conv.moped = options.moped;
    if (options.posteriorSigma !== undefined) conv.posteriorSigma = options.posteriorSigma;
    if (options.priorSigma !== undefined) {
      conv.addDenseArgs = { priorSigma: options.priorSigma };
      conv.addConvArgs = { priorSigma: options.priorSigma };
    }
    const { model, converted, summary } = await transformToBnn(dnn, conv);
    try {
      model.setUserDefinedMetadata({
        dnnToBnn: {
          source: path,
          layers: options.layers,
          estimator: options.estimator,
          init: options.init,
          moped: options.posteriorSigma === undefined ? (options.moped ?? 0.1) : null,
          posteriorSigma: options.posteriorSigma ?? null,
          mopedPrior: options.mopedPrior === true,
          converted: converted.map((c) => ({ layer: c.path, from: c.from, to: c.to })),
        },
      });
      const out = resolve(options.out);
      await model.save(fileIO(out));
      return { summary: summary(), converted: converted.map((c) => c.path), out };
    } finally {
      model.dispose();
    }
  } finally {
    dnn.dispose();
  }
}

/** Register `convert` on `program`. */
export function register(program: Command): void {
  program
    .command('convert')
    .description('convert a TF.js model (model.json from model.save) into a Bayesian one')
    .requiredOption('--model <path>', 'model.json written by model.save (weights next to it)')
    .requiredOption('--out <dir>', 'directory for the Bayesian model.json + weights.bin')
    .option(
      '--layers <which>',
      'layers to convert: dense | conv | all',
      oneOf(['dense', 'conv', 'all'] as const),
      'all',
    )
    .option(...estimatorOption('weight estimator'))
    .option('--moped <delta>', 'MOPED posterior std delta*|w| (default 0.1)', positiveNumber)
    .option(
      '--posterior-sigma <s>',
      'constant initial posterior std instead of MOPED',
      positiveNumber,
    )
    .option(
      '--init <how>',
      "posterior means: 'dnn' (the DNN weights) | 'fresh' (random)",
      oneOf(['dnn', 'fresh'] as const),
      'dnn',
    )
    .option('--moped-prior', 'centre each weight prior on its DNN value (MOPED empirical Bayes)')
    .option(
      '--prior-sigma <s>',
      'prior standard deviation of the Bayesian layers (default 0.1)',
      positiveNumber,
    )
    .addHelpText(
      'after',
      '\nExample:\n  deepprob convert --model runs/lenet/model.json --out runs/bnn --layers all ' +
        '--estimator flipout --moped 0.1',
    )
    .action(async (o: ConvertCliOptions) => {
      await cliReady(program);
      if (o.moped !== undefined && o.posteriorSigma !== undefined) {
        throw new InvalidArgumentError('give either --moped or --posterior-sigma, not both');
      }
      const r = await convertFile(o);
      console.log(r.summary);
      console.log(
        `converted ${r.converted.length} layer(s) (${r.converted.join(', ')}); saved to ${r.out}`,
      );
    });
}
