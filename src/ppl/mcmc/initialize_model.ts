/**
 * NumPyro's `numpyro.infer.util.initialize_model(rng_key, model, model_args=...)`: a model's
 * initial point in the unconstrained space and the functions HMC/NUTS work with, for a user's own
 * sampler or optimizer. Every continuous latent site `x_i` with support `S_i` is written
 * `x_i = T_i(z_i)`, `T_i = bijectTo(S_i)`, the sites' unconstrained values laid out in one flat
 * vector `z` ({@link LatentSite} offsets, the layout the kernels use), and
 *
 * $$U(z) = -\Bigl(\log p\bigl(x, T(z)\bigr) + \sum_i \log\bigl|\det J_{T_i}(z_i)\bigr|\Bigr),$$
 *
 * the potential energy NUTS samples (discrete latents with a finite support summed out, as in
 * `potential.ts`), with its gradient `∇_z U` by tfjs autodiff; the postprocess maps `z` to the
 * constrained site values `T_i(z_i)` and the `deterministic` sites computed from them (NumPyro's
 * `postprocess_fn`). The initial point comes from the init strategy (default `uniform`: every
 * unconstrained coordinate `~ Uniform(-2, 2)`), redrawn (up to 100 times) where `U` or `∇U` is
 * not finite, as a chain of `NUTS(model, {initStrategy})` starts whose generator has that seed.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { nextSeed } from '../../utils/seed.js';
import type { InitStrategy } from '../init_strategy.js';
import { setupChain } from './chain_setup.js';
import type { CompileMode } from './compiled_potential.js';
import type { PotentialPoint } from './integrator.js';
import { NUTS, type NUTSOptions } from './nuts.js';
import type { LatentSite, Potential } from './potential.js';
import { ChainRng } from './rng.js';

/** Options of {@link initializeModel}. */
export interface InitializeModelOptions {
  /** The model's positional arguments (NumPyro's `model_args`). Default none. */
  modelArgs?: unknown[];
  /** How the initial point is chosen (NumPyro's `init_strategy`). Default `uniform`. */
  initStrategy?: InitStrategy;
  /** Seed of the initial point's draws (NumPyro's `rng_key`); default the global seed stream. */
  seed?: number;
  /** The model's plate dims, for summing out discrete latents (as the kernels' option). */
  maxPlateNesting?: number;
  /**
   * Record `U` once and replay it in float64 (`'auto'`, default: checked against tfjs, falling
   * back to tfjs where it cannot be recorded), always (`true`), or evaluate it with tfjs
   * (`false`); the kernels' `compile` option.
   */
  compile?: CompileMode;
}

/**
 * What {@link initializeModel} returns (NumPyro's `ModelInfo`): the initial point with its
 * potential energy and gradient (`param_info`), the potential, and the postprocess.
 */
export interface ModelInfo {
  /** NumPyro's `param_info`: the unconstrained initial point `z_0`, `U(z_0)` and `∇U(z_0)`. */
  paramInfo: { z: Float64Array; potentialEnergy: number; zGrad: Float64Array };
  /** The layout of `z`: each latent site's offset, size and (unconstrained) shapes. */
  sites: readonly LatentSite[];
  /** The potential as a {@link Potential} (give it to `new NUTS(...)` or `new HMC(...)`). */
  potential: Potential;
  /** `U(z)` (NumPyro's `potential_fn`). */
  potentialFn(z: Float64Array | readonly number[]): number;
  /** `U(z)` and `∇_z U(z)` (a new gradient array). */
  valueAndGrad(z: Float64Array | readonly number[]): PotentialPoint;
  /**
   * The constrained latent values `T_i(z_i)` and `deterministic` sites at `z` (NumPyro's
   * `postprocess_fn`): new tensors by site name, the caller's.
   */
  postprocessFn(z: Float64Array | readonly number[]): Record<string, tf.Tensor>;
}

/**
 * Initialize a model for MCMC or any sampler working in the unconstrained space (NumPyro's
 * `initialize_model`; see the module docs for `U`).
 *
 * @param model the model (its continuous latent sites are `z`).
 * @param options `modelArgs`, `initStrategy`, `seed`, `maxPlateNesting`, `compile`.
 * @throws ArgumentError naming `model`, `options` or the option (before any work), a site (the
 *   model run), or `z` (a point of the wrong length or with a non-finite value).
 *
 * @example
 * ```ts
 * const info = ppl.initializeModel(model, { modelArgs: [y], seed: 0 });
 * const u = info.potentialFn(info.paramInfo.z);       // -(log p(y, T(z)) + log|J|)
 * const { mu, sigma } = info.postprocessFn(info.paramInfo.z); // constrained values (dispose)
 * ```
 */
export function initializeModel(
  model: (...args: never[]) => unknown,
  options: InitializeModelOptions = {},
): ModelInfo {
  if (typeof model !== 'function') {
    throw new ArgumentError('model', `expected a model function, got ${String(model)}`);
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(
      'options',
      `initializeModel: expected {modelArgs?, initStrategy?, seed?, maxPlateNesting?, compile?}, got ${String(options)}`,
    );
  }
  checkOptionKeys(
    options,
    ['modelArgs', 'initStrategy', 'seed', 'maxPlateNesting', 'compile'],
    'initializeModel',
  );
  const args = options.modelArgs ?? [];
  if (!Array.isArray(args)) {
    throw new ArgumentError(
      'modelArgs',
      `initializeModel: expected an array of the model's arguments, got ${String(args)}`,
    );
  }
  const seed = nextSeed(options.seed);
  const kernelOptions: NUTSOptions = {};
  if (options.compile !== undefined) kernelOptions.compile = options.compile;
  if (options.initStrategy !== undefined) kernelOptions.initStrategy = options.initStrategy;
  if (options.maxPlateNesting !== undefined) {
    kernelOptions.maxPlateNesting = options.maxPlateNesting;
  }
  // the kernel checks the model and the options; the setup is that of a NUTS chain whose
  // generator has this seed
  const kernel = new NUTS(model, kernelOptions);
  const setup = setupChain(kernel, new ChainRng(seed), args);
  const potential = setup.potential;
  const constrainer = setup.model;
  const dim = setup.z.length;
  const point = (z: Float64Array | readonly number[]): Float64Array => {
    if (!(z instanceof Float64Array) && !Array.isArray(z)) {
      throw new ArgumentError('z', `expected ${dim} unconstrained values, got ${String(z)}`);
    }
    if (z.length !== dim) {
      throw new ArgumentError(
        'z',
        `expected ${dim} unconstrained values (sites ${setup.sites.map((s) => `'${s.name}'`).join(', ')}), got ${z.length}`,
      );
    }
    const out = Float64Array.from(z);
    if (!out.every(Number.isFinite)) {
      throw new ArgumentError('z', 'expected finite unconstrained values');
    }
    return out;
  };
  const z0 = setup.z.slice();
  const first = potential.valueAndGrad(z0);
  return {
    paramInfo: { z: z0, potentialEnergy: first.value, zGrad: first.grad },
    sites: setup.sites,
    potential,
    potentialFn: (z) => potential.valueAndGrad(point(z)).value,
    valueAndGrad: (z) => potential.valueAndGrad(point(z)),
    postprocessFn: (z) => {
      const q = point(z);
      const out: Record<string, tf.Tensor> = {};
      if (constrainer === undefined) return out;
      for (const [name, v] of constrainer.constrain(q)) out[name] = tf.tensor(v.values, v.shape);
      return out;
    },
  };
}
