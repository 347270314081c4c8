/**
 * The conversion runner behind `deepprob convert`: load a model saved by TF.js's `model.save`
 * (a `model.json` with its weight files), convert its Dense and/or Conv2D layers to Bayesian
 * layers whose posterior means are the DNN's weights (`transforms`), and save the Bayesian model
 * (each file written atomically) with the conversion options in its metadata.
 */
import { basename, dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Estimator } from '../layers/estimator_registry.js';
import { transformToBnn, type TransformToBnnOptions } from '../transforms/transform.js';
import { ArgumentError } from '../utils/errors.js';
import { fileIO } from '../utils/file_io.js';

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
