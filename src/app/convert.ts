/**
 * The conversion runner behind `deepprob convert`: load a model saved by TF.js's `model.save`
 * (a `model.json` with its weight files), convert its Dense and/or Conv2D layers to Bayesian
 * layers whose posterior means are the DNN's weights (`transforms`), and save the Bayesian model
 * (each file written atomically) with the conversion options in its metadata.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Estimator } from '../layers/estimator_registry.js';
import { bayesianLayers } from '../layers/model_utils.js';
import { transformToBnn } from '../transforms/transform.js';
import type { TransformToBnnOptions } from '../transforms/transform_options.js';
import { checkFiniteWeights } from '../transforms/topology_checks.js';
import { ArgumentError } from '../utils/errors.js';
import { fileIO } from '../utils/file_io.js';
import { loadModelFolder } from '../utils/model_folder.js';
import { disposeModel } from '../layers/dispose_model.js';
import { checkWritableDir } from './run_dir.js';
import { checkOptionKeys } from '../utils/options.js';

/** Options of `deepprob convert`. */
export interface ConvertCliOptions {
  /** The source `model.json` (or the folder `model.save('file://dir')` wrote). */
  model: string;
  /** The output folder. */
  out: string;
  /** Which layers become Bayesian. Default `'all'`. */
  layers?: 'dense' | 'conv' | 'all';
  /** Estimator of the Bayesian layers. Default `'reparam'`. */
  estimator?: Estimator;
  moped?: number;
  posteriorSigma?: number;
  /** Posterior start: from the DNN's weights (default `'dnn'`) or `'fresh'`. */
  init?: 'dnn' | 'fresh';
  mopedPrior?: boolean;
  priorSigma?: number;
  /** Names of layers to keep deterministic (`excludeLayers` of `transforms.transformToBnn`). */
  exclude?: string[];
  /**
   * Silence the conversion's warnings (`quiet` of `transforms.transformToBnn`: the note on the
   * DNN regularizers the Bayesian layers drop). Default false.
   */
  quiet?: boolean;
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

/** The real path of `p` (symlinks resolved), also when its last components do not exist yet. */
function realPathOf(p: string): string {
  const rest: string[] = [];
  let q = resolve(p);
  while (!existsSync(q)) {
    const up = dirname(q);
    if (up === q) break;
    rest.unshift(basename(q));
    q = up;
  }
  return join(realpathSync(q), ...rest);
}

/**
 * Refuse an output folder that is the source model's folder (by its real path: also through
 * symlinks, `..` or a trailing slash): saving there would replace the source `model.json` and its
 * weights. A subfolder of it is fine (other file names).
 * @param model the source `model.json`.
 * @param out the output folder.
 * @throws ArgumentError naming `out`.
 */
export function checkConvertOut(model: string, out: string): void {
  if (typeof out !== 'string' || out === '') {
    throw new ArgumentError('out', `expected a directory path, got ${String(out)}`);
  }
  const src = realPathOf(dirname(resolve(model)));
  const dst = realPathOf(out);
  if (relative(src, dst) === '') {
    throw new ArgumentError(
      'out',
      `${out} is the folder of the source model (${src}); saving there would replace the ` +
        'source model.json and its weights: choose another folder',
    );
  }
  checkWritableDir(out, 'out');
}

const CONVERT_OPTION_FIELDS: Record<keyof ConvertCliOptions, true> = {
  model: true,
  out: true,
  layers: true,
  estimator: true,
  moped: true,
  posteriorSigma: true,
  init: true,
  mopedPrior: true,
  priorSigma: true,
  exclude: true,
  quiet: true,
};

/** The fields of {@link ConvertCliOptions} (a typo is refused naming it). */
export const CONVERT_OPTION_KEYS: readonly string[] = Object.keys(CONVERT_OPTION_FIELDS);

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
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, CONVERT_OPTION_KEYS, 'convertFile');
  if (options.moped !== undefined && options.posteriorSigma !== undefined) {
    throw new ArgumentError(
      'moped',
      'give either --moped or --posterior-sigma (a constant posterior std), not both',
    );
  }
  if (typeof options.model !== 'string' || options.model === '') {
    throw new ArgumentError(
      'model',
      `expected the path of a model.json, got ${String(options.model)}`,
    );
  }
  let path = resolve(options.model);
  if (!existsSync(path)) {
    throw new ArgumentError('model', `cannot load a TF.js layers model from ${path}: no such file`);
  }
  // the folder that model.save('file://dir') wrote: its model.json
  if (statSync(path).isDirectory()) path = join(path, 'model.json');
  if (!existsSync(path)) {
    throw new ArgumentError(
      'model',
      `${dirname(path)} is a folder without a model.json: give the model.json saved by model.save`,
    );
  }
  const layers = options.layers ?? 'all';
  const estimator = options.estimator ?? 'reparam';
  const init = options.init ?? 'dnn';
  checkConvertOut(path, options.out);
  let dnn: tf.LayersModel;
  try {
    dnn = await loadModelFolder(dirname(path), basename(path));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // the file errors of fileIO / loadModelFolder start with the path already
    const why = msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg;
    throw new ArgumentError('model', `cannot load a TF.js layers model from ${path}: ${why}`);
  }
  try {
    checkFiniteWeights(dnn);
  } catch (e) {
    dnn.dispose();
    const why = e instanceof ArgumentError ? e.message.slice(e.argument.length + 2) : String(e);
    throw new ArgumentError('model', `${path}: ${why}`);
  }
  try {
    const conv: TransformToBnnOptions = {
      layers,
      estimator,
      init,
      mopedPrior: options.mopedPrior === true,
    };
    if (options.quiet === true) conv.quiet = true;
    if (options.exclude !== undefined) conv.excludeLayers = options.exclude;
    if (options.moped !== undefined) conv.moped = options.moped;
    if (options.posteriorSigma !== undefined) conv.posteriorSigma = options.posteriorSigma;
    if (options.priorSigma !== undefined) {
      // every Bayesian kind the conversion makes: Dense, the convolutions and the recurrent layers
      // (also inside Bidirectional / TimeDistributed)
      const prior = { priorSigma: options.priorSigma };
      conv.addDenseArgs = prior;
      conv.addConvArgs = prior;
      conv.addLstmArgs = prior;
      conv.addGruArgs = prior;
      conv.addSimpleRnnArgs = prior;
    }
    const { model, converted, summary } = await transformToBnn(dnn, conv).catch((e: unknown) => {
      // the library's option is the CLI's --exclude: name the one the user gave
      if (e instanceof ArgumentError && e.argument === 'excludeLayers') {
        throw new ArgumentError('exclude', e.message.slice(e.argument.length + 2));
      }
      throw e;
    });
    try {
      if (converted.length === 0) {
        const bayes = bayesianLayers(dnn).length;
        const what =
          layers === 'dense' ? 'Dense' : layers === 'conv' ? 'Conv2D' : 'Dense or Conv2D';
        throw new ArgumentError(
          'layers',
          `${path} has no ${what} layer to convert` +
            (bayes > 0 ? ` (it is already Bayesian: ${bayes} Bayesian layer(s))` : '') +
            (layers !== 'all' ? `; --layers ${layers} selects only ${what} layers` : ''),
        );
      }
      model.setUserDefinedMetadata({
        dnnToBnn: {
          source: path,
          layers,
          estimator,
          init,
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
      disposeModel(model);
    }
  } finally {
    dnn.dispose();
  }
}
