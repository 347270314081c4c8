/**
 * Build a `tf.Sequential` from a list of {@link LayerSpec}s, plain or Bayesian.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { nextSeed } from '../utils/seed.js';
import { optionsObject } from '../utils/options.js';
import * as L from '../layers/index.js';
import type { Estimator } from '../layers/estimator_registry.js';
import { featureSide, outSize, type LayerSpec } from './spec.js';

export type { Estimator } from '../layers/estimator_registry.js';

/** Prior and posterior-initialisation options of the Bayesian layers (BayesianCNN's `priors`). */
export interface PriorOptions {
  /** Mean of the Normal weight prior (default 0). */
  priorMu?: number;
  /** Standard deviation of the Normal weight prior (default 0.1). */
  priorSigma?: number;
  /** `[mean, std]` of the initial posterior means (default `[0, 0.1]`). */
  posteriorMuInitial?: readonly number[];
  /** `[mean, std]` of the initial posterior rho, `sigma = softplus(rho)` (default `[-3, 0.1]`). */
  posteriorRhoInitial?: readonly number[];
}

/** Options common to every model factory of the zoo. */
export interface ModelOptions {
  /** Number of classes (default 10). */
  numClasses?: number;
  /** Input shape `[H, W, C]` (default depends on the model). */
  inputShape?: [number, number, number];
  /** Make a Bayesian twin with this estimator; plain when undefined. */
  bayesian?: Estimator;
  /** Priors of the Bayesian layers. */
  priors?: PriorOptions;
  /** Model name (default: the registry name). */
  name?: string;
}

/** The option keys every factory of the zoo takes ({@link ModelOptions}). */
export const MODEL_OPTION_KEYS: readonly string[] = [
  'numClasses',
  'inputShape',
  'bayesian',
  'priors',
  'name',
];

/** The keys of {@link PriorOptions}. */
export const PRIOR_OPTION_KEYS: readonly string[] = [
  'priorMu',
  'priorSigma',
  'posteriorMuInitial',
  'posteriorRhoInitial',
];

/**
 * Check a factory's options object before any layer is made: an object (or undefined), whose keys
 * are {@link MODEL_OPTION_KEYS} plus the factory's own `extra` keys, and whose `priors` holds only
 * {@link PRIOR_OPTION_KEYS}. A misspelt key (`numClass`, `prior`) would otherwise be ignored and
 * silently give the default model.
 *
 * @param options what the caller gave.
 * @param extra the factory's own keys (e.g. `['variant', 'activation']`).
 * @param what the factory, for the message (e.g. `'lenet5'`).
 * @returns the options (`{}` for undefined).
 * @throws ArgumentError naming `options`, the unknown key, or `priors`.
 */
export function checkModelOptions<T extends ModelOptions>(
  options: T | undefined,
  extra: readonly string[],
  what: string,
): T {
  const o = optionsObject(options, [...MODEL_OPTION_KEYS, ...extra], what);
  if (o.priors !== undefined) {
    optionsObject(o.priors, PRIOR_OPTION_KEYS, `${what}'s priors`, 'priors');
  }
  return o;
}

/**
 * Build a sequential model from `specs`.
 *
 * Plain: conv -> `tf.layers.conv2d` (explicit padding via `zeroPadding2d` + `'valid'`), dense ->
 * `tf.layers.dense`; a ReLU spec right after a plain conv/dense becomes that layer's `activation`
 * (`relu(conv(x, W) + b)` in one fused kernel; same function and weight names as a separate
 * `Activation` layer, so older checkpoints' weights load unchanged). Bayesian: conv -> `Conv<Estimator>` with MindSpore arguments (`padMode`
 * `'valid'`/`'same'`/`'pad'` + `padding`), dense -> `Dense<Estimator>`.
 *
 * @param specs the architecture.
 * @param inputShape `[H, W, C]`.
 * @param options `bayesian` estimator and `priors`; `name` of the model.
 * @throws ArgumentError when the spatial size shrinks to zero (input too small for the architecture).
 */
export function buildSequential(
  specs: LayerSpec[],
  inputShape: [number, number, number],
  options: { bayesian?: Estimator; priors?: PriorOptions; name: string },
): tf.Sequential {
  if (!Array.isArray(specs)) {
    throw new ArgumentError('specs', `expected an array of layer specs, got ${String(specs)}`);
  }
  if (!Array.isArray(inputShape) || inputShape.length !== 3) {
    throw new ArgumentError(
      'inputShape',
      `expected [H, W, C], got ${Array.isArray(inputShape) ? `[${inputShape.join(', ')}]` : String(inputShape)}`,
    );
  }
  const [h0, w0, c0] = inputShape;
  for (const [i, v] of inputShape.entries()) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new ArgumentError(
        'inputShape',
        `expected [H, W, C] positive integers, got [${inputShape.join(', ')}] (bad entry ${i})`,
      );
    }
  }
  // before any layer is made (tfjs refuses a shrinking layer with its own message, and the layers
  // added so far would stay allocated)
  const hEnd = featureSide(specs, h0);
  const wEnd = featureSide(specs, w0);
  if (hEnd < 1 || wEnd < 1) throw tooSmall(inputShape, options.name, hEnd, wEnd);
  const classes =
    options.bayesian !== undefined
      ? L.ESTIMATOR_CLASSES[L.checkEstimator(options.bayesian, 'bayesian')]
      : undefined;
  const priors = options.priors ?? {};
  const model = tf.sequential({ name: options.name });
  let h = h0;
  let w = w0;
  let c = c0;
  let flat = -1;
  let first = true;
  const shapeArg = (): { inputShape?: number[] } => {
    if (!first) return {};
    first = false;
    return { inputShape: [h0, w0, c0] };
  };
  for (const [i, s] of specs.entries()) {
    // a plain conv/dense layer takes a following ReLU as its fused activation (one kernel, bias +
    // ReLU epilogue); the ReLU spec is then skipped
    const fused = classes === undefined && foldsRelu(specs, i) ? 'relu' : undefined;
    if (s.kind === 'act' && classes === undefined && foldsRelu(specs, i - 1)) continue;
    switch (s.kind) {
      case 'conv': {
        const stride = s.stride ?? 1;
        const pad = s.padding ?? 'valid';
        h = outSize(h, s.kernelSize, stride, pad);
        w = outSize(w, s.kernelSize, stride, pad);
        if (classes !== undefined) {
          model.add(
            new classes.conv({
              ...shapeArg(),
              name: s.name,
              inChannels: c,
              outChannels: s.filters,
              kernelSize: s.kernelSize,
              stride,
              padMode: typeof pad === 'number' ? 'pad' : pad,
              padding: typeof pad === 'number' ? pad : 0,
              hasBias: s.bias ?? true,
              ...priors,
            }),
          );
        } else {
          if (typeof pad === 'number' && pad > 0) {
            model.add(
              tf.layers.zeroPadding2d({ ...shapeArg(), padding: pad, name: `${s.name}_pad` }),
            );
          }
          model.add(
            tf.layers.conv2d({
              ...shapeArg(),
              name: s.name,
              filters: s.filters,
              kernelSize: s.kernelSize,
              strides: stride,
              padding: pad === 'same' ? 'same' : 'valid',
              useBias: s.bias ?? true,
              kernelInitializer: seededGlorot(),
              ...(fused !== undefined ? { activation: fused } : {}),
            }),
          );
        }
        c = s.filters;
        break;
      }
      case 'maxpool':
        h = outSize(h, s.size, s.stride, 'valid');
        w = outSize(w, s.size, s.stride, 'valid');
        model.add(tf.layers.maxPooling2d({ ...shapeArg(), poolSize: s.size, strides: s.stride }));
        break;
      case 'act':
        model.add(tf.layers.activation({ ...shapeArg(), activation: s.fn }));
        break;
      case 'flatten':
        flat = h * w * c;
        model.add(tf.layers.flatten(shapeArg()));
        break;
      case 'dropout':
        model.add(tf.layers.dropout({ ...shapeArg(), rate: s.rate }));
        break;
      case 'dense': {
        const inUnits = flat > 0 ? flat : c;
        if (classes !== undefined) {
          model.add(
            new classes.dense({
              ...shapeArg(),
              name: s.name,
              inChannels: inUnits,
              outChannels: s.units,
              hasBias: s.bias ?? true,
              ...priors,
            }),
          );
        } else {
          model.add(
            tf.layers.dense({
              ...shapeArg(),
              name: s.name,
              units: s.units,
              useBias: s.bias ?? true,
              kernelInitializer: seededGlorot(),
              ...(fused !== undefined ? { activation: fused } : {}),
            }),
          );
        }
        flat = s.units;
        c = s.units;
        break;
      }
    }
    if (h <= 0 || w <= 0) throw tooSmall(inputShape, options.name, h, w);
  }
  return model;
}

/** The error of an input too small for an architecture (a feature map shrinks to `h x w`). */
function tooSmall(
  inputShape: readonly number[],
  name: string,
  h: number,
  w: number,
): ArgumentError {
  return new ArgumentError(
    'inputShape',
    `[${inputShape.join(', ')}] is too small for ${name}: the feature map shrinks to ` +
      `${Math.max(h, 0)}x${Math.max(w, 0)} (pad or resize the images, e.g. to 32x32)`,
  );
}

/**
 * Build a model of the zoo from its layer list: the input shape defaults to `defaults.inputShape`
 * and the name to `defaults.name`, or `bayes-<name>` for a Bayesian twin.
 *
 * @param specs the architecture.
 * @param options the factory's options (`inputShape`, `bayesian`, `priors`, `name`).
 * @param defaults the model's default input shape and plain name.
 */
export function buildZooModel(
  specs: LayerSpec[],
  options: ModelOptions,
  defaults: { inputShape: [number, number, number]; name: string },
): tf.Sequential {
  const plain = options.bayesian === undefined;
  return buildSequential(specs, options.inputShape ?? defaults.inputShape, {
    name: options.name ?? (plain ? defaults.name : `bayes-${defaults.name}`),
    bayesian: options.bayesian,
    priors: options.priors,
  });
}

/**
 * Whether `specs[i]` is a conv or dense layer directly followed by a ReLU: the plain builder then
 * gives the layer `activation: 'relu'`, so that tfjs runs `relu(conv(x, W) + b)` (or
 * `relu(x W + b)`) as one fused kernel, and its gradient `dy ⊙ 1[y > 0]` inside the fused op's
 * gradient, instead of a separate `Activation` layer (same function, same weights).
 */
function foldsRelu(specs: LayerSpec[], i: number): boolean {
  const s = specs[i];
  const next = specs[i + 1];
  return (
    s !== undefined &&
    (s.kind === 'conv' || s.kind === 'dense') &&
    next !== undefined &&
    next.kind === 'act' &&
    next.fn === 'relu'
  );
}

/**
 * tfjs's default kernel initializer (Glorot uniform, `U(-a, a)` with `a = sqrt(6 / (fanIn + fanOut))`)
 * drawn from the deepprob seed stream, so that `setSeed(s)` makes plain twins reproducible too.
 */
function seededGlorot(): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: nextSeed() });
}
