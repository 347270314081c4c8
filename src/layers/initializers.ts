/**
 * The initializers of a Bayesian layer's posterior means: TF.js's `kernelInitializer` /
 * `biasInitializer` (an initializer object, a name such as `'glorotUniform'`, or the serialized
 * `{ className, config }` a saved config holds, as tfjs's own layers save theirs), and the seeded
 * `N(mean, stddev^2)` draw of `posteriorMuInitial` / `posteriorRhoInitial` used otherwise. A
 * layer's `getConfig` keeps the given ones ({@link initializerConfig}), so `fromConfig`,
 * `tf.models.modelFromJSON` and a loaded architecture start from the same initial means.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/** A tfjs initializer object (what `tf.initializers.*(...)` returns). */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/**
 * A tfjs initializer as a layer config holds it (tfjs-layers' `serializeKerasObject`):
 * `{ className, config }`, e.g. `{ className: 'VarianceScaling', config: { scale: 1, mode:
 * 'fanAvg', distribution: 'normal', seed: 5 } }`. `className` is a class registered with
 * `tf.serialization` (tfjs's initializers, or a user's registered subclass of tfjs's `Initializer`).
 */
export interface SerializedInitializer {
  /** The registered class name. */
  className: string;
  /** The initializer's `getConfig()`. */
  config: tf.serialization.ConfigDict;
}

/**
 * A tfjs initializer, the name of one (`'glorotUniform'`, `'heNormal'`, `'zeros'`, ...), or its
 * serialized form ({@link SerializedInitializer}, what `getConfig()` of a Bayesian layer saves).
 */
export type InitializerSpec = Initializer | InitializerName | SerializedInitializer;

/** Initializer names accepted by {@link resolveInitializer} (those of `tf.initializers` without arguments). */
export type InitializerName =
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heUniform'
  | 'heNormal'
  | 'leCunUniform'
  | 'leCunNormal'
  | 'randomNormal'
  | 'randomUniform'
  | 'truncatedNormal'
  | 'zeros'
  | 'ones';

const INITIALIZERS: Record<InitializerName, () => Initializer> = {
  glorotUniform: () => tf.initializers.glorotUniform({}),
  glorotNormal: () => tf.initializers.glorotNormal({}),
  heUniform: () => tf.initializers.heUniform({}),
  heNormal: () => tf.initializers.heNormal({}),
  leCunUniform: () => tf.initializers.leCunUniform({}),
  leCunNormal: () => tf.initializers.leCunNormal({}),
  randomNormal: () => tf.initializers.randomNormal({}),
  randomUniform: () => tf.initializers.randomUniform({}),
  truncatedNormal: () => tf.initializers.truncatedNormal({}),
  zeros: () => tf.initializers.zeros(),
  ones: () => tf.initializers.ones(),
};

/**
 * A tfjs initializer from an {@link InitializerSpec}.
 *
 * @param spec an initializer object, one of the names of {@link InitializerName}, or a
 *   {@link SerializedInitializer} (as a saved layer config holds it).
 * @param name the argument name used in errors.
 * @throws ArgumentError naming `name` (or `name.className`, `name.config`) for anything else.
 * @returns the initializer.
 * @example
 * ```ts
 * resolveInitializer('heNormal', 'kernelInitializer'); // tf.initializers.heNormal({})
 * ```
 */
export function resolveInitializer(spec: InitializerSpec, name: string): Initializer {
  // (tfjs exports the Initializer type but not the class: recognise an initializer by its apply)
  if (typeof spec === 'object' && spec !== null) {
    if (typeof (spec as Partial<Initializer>).apply === 'function') return spec as Initializer;
    if ('className' in spec) return deserializeInitializer(spec, name);
  }
  if (typeof spec === 'string' && Object.hasOwn(INITIALIZERS, spec)) {
    return INITIALIZERS[spec]();
  }
  throw new ArgumentError(
    name,
    `expected a tf.initializers object or one of ${Object.keys(INITIALIZERS).join(', ')} (or a serialized initializer { className, config }), got ${typeof spec === 'object' ? JSON.stringify(spec) : String(spec)}`,
  );
}

/** The prototype every tfjs initializer inherits (tfjs's `Initializer.prototype`). */
const INITIALIZER_PROTOTYPE = Object.getPrototypeOf(
  Object.getPrototypeOf(tf.initializers.zeros()),
) as object;

/**
 * An initializer's serialized form, `{ className, config }` (tfjs-layers' `serializeKerasObject`),
 * which {@link resolveInitializer} turns back into an equal initializer.
 * @param init a tfjs initializer.
 * @returns a JSON-able object.
 * @example
 * ```ts
 * serializeInitializer(tf.initializers.glorotNormal({ seed: 5 }));
 * // { className: 'VarianceScaling', config: { scale: 1, mode: 'fanAvg', distribution: 'normal', seed: 5 } }
 * ```
 */
export function serializeInitializer(init: Initializer): SerializedInitializer {
  const config = JSON.parse(JSON.stringify(init.getConfig())) as tf.serialization.ConfigDict;
  return { className: init.getClassName(), config };
}

/** A {@link SerializedInitializer} as the registered initializer class it names. */
function deserializeInitializer(spec: SerializedInitializer, name: string): Initializer {
  const { className, config } = spec;
  const entry =
    typeof className === 'string'
      ? tf.serialization.SerializationMap.getMap().classNameMap[className]
      : undefined;
  const isInitializer =
    entry !== undefined &&
    Object.prototype.isPrototypeOf.call(INITIALIZER_PROTOTYPE, entry[0].prototype);
  if (!isInitializer) {
    throw new ArgumentError(
      `${name}.className`,
      `expected the registered class name of a tfjs initializer (e.g. 'VarianceScaling', 'RandomNormal', 'Zeros'), got ${JSON.stringify(className)}`,
    );
  }
  if (
    config !== undefined &&
    (config === null || typeof config !== 'object' || Array.isArray(config))
  ) {
    throw new ArgumentError(`${name}.config`, `expected an object, got ${JSON.stringify(config)}`);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config ?? {}) as unknown as Initializer;
}

/**
 * The initializer of a variational weight drawn from `N(mean, stddev^2)`: a seeded random normal,
 * or a constant when `stddev = 0` (tfjs's `randomNormal` replaces a stddev of 0 by 0.05).
 * @param mean the mean. @param stddev the standard deviation, >= 0. @param seed the seed.
 */
export function normalInitializer(mean: number, stddev: number, seed: number): Initializer {
  return stddev === 0
    ? tf.initializers.constant({ value: mean })
    : tf.initializers.randomNormal({ mean, stddev, seed });
}

/**
 * The optional mean initializers of a Bayesian layer's `kernelInitializer` / `biasInitializer`
 * arguments (null where not given: the posterior's `muInitial` is used).
 * @param args the layer arguments.
 */
export function muInitializersOf(args: {
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}): { kernel: Initializer | null; bias: Initializer | null } {
  const { kernelInitializer: k, biasInitializer: b } = args;
  return {
    kernel: k === undefined ? null : resolveInitializer(k, 'kernelInitializer'),
    bias: b === undefined ? null : resolveInitializer(b, 'biasInitializer'),
  };
}

/**
 * The config entries of a layer's given mean initializers: `kernelInitializer` /
 * `biasInitializer` as {@link SerializedInitializer}s, only those given (so configs saved without
 * them are unchanged).
 * @param inits the layer's initializers ({@link muInitializersOf}).
 * @returns a JSON-able part of the layer config.
 */
export function initializerConfig(inits: {
  kernel: Initializer | null;
  bias: Initializer | null;
}): tf.serialization.ConfigDict {
  const out: tf.serialization.ConfigDict = {};
  if (inits.kernel !== null) out['kernelInitializer'] = { ...serializeInitializer(inits.kernel) };
  if (inits.bias !== null) out['biasInitializer'] = { ...serializeInitializer(inits.bias) };
  return out;
}
