/**
 * A potential energy written as a tensor function of named parameters (Pyro's and NumPyro's
 * `MCMC` with `potential_fn` and `init_params` instead of a model): `U(θ) = -log π(θ)` up to a
 * constant, over real-valued parameters `θ = {name: tensor}`, differentiated by tfjs.
 *
 * The parameters are laid out in one flat vector `z` (in the order of `initParams`, row-major),
 *
 * $$U(z) = \mathrm{fn}(\{\theta_k = z_{[o_k, o_k + n_k)}\}),\qquad
 *   \nabla_z U = (\partial \mathrm{fn} / \partial \theta_k)_k,$$
 *
 * and `MCMC` with `NUTS`/`HMC` over it starts every chain at `initParams` (unless its own
 * `initParams` option is given) and stores the draws by parameter name with their shapes. No
 * transform is applied: a constrained parameter must be reparameterized by the function itself.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { withTapeCleanup } from '../../utils/tape.js';
import type { Constrainer } from './compiled_constrain.js';
import type { PotentialPoint } from './integrator.js';
import type { Potential } from './potential.js';

/** `U(θ)`: a scalar tensor from the parameters by name. */
export type PotentialFn = (params: Record<string, tf.Tensor>) => tf.Tensor;

/** One parameter's place in the flat vector. */
export interface ParamSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** A {@link Potential} from a tensor function of named parameters (see the module docs). */
export class FnPotential implements Potential, Constrainer {
  readonly dim: number;
  /** The parameters' layout, in the order of `initParams`. */
  readonly slots: readonly ParamSlot[];
  /** The initial point, flattened. */
  readonly initParams: Float64Array;

  /**
   * @param fn the potential energy `U(θ)` (a scalar tensor; tidied here).
   * @param initParams the initial value of every parameter, by name (read once, not kept).
   * @throws ArgumentError naming `potentialFn` or `initParams` when `fn` is not a function, a
   *   value is not numeric, or `fn` at `initParams` is not a scalar.
   */
  constructor(
    readonly fn: PotentialFn,
    initParams: Record<string, tf.Tensor | number | number[]>,
  ) {
    if (typeof fn !== 'function') {
      throw new ArgumentError(
        'potentialFn',
        `expected a function of the parameters, got ${typeof fn}`,
      );
    }
    if (initParams === null || typeof initParams !== 'object' || Array.isArray(initParams)) {
      throw new ArgumentError('initParams', 'expected a record {name: tensor | number | number[]}');
    }
    const slots: ParamSlot[] = [];
    const values: number[] = [];
    for (const [name, v] of Object.entries(initParams)) {
      let t: tf.Tensor;
      try {
        t = v instanceof tf.Tensor ? v : tf.tensor(v);
      } catch {
        throw new ArgumentError('initParams', `'${name}': expected a tensor, number or number[]`);
      }
      if (t.isDisposed || (t.dtype !== 'float32' && t.dtype !== 'int32')) {
        if (t !== v) t.dispose();
        throw new ArgumentError('initParams', `'${name}': expected a live numeric tensor`);
      }
      const data = t.dataSync();
      const bad = data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) {
        if (t !== v) t.dispose();
        throw new ArgumentError(
          'initParams',
          `'${name}': expected finite values, got ${data[bad]} at element ${bad}`,
        );
      }
      slots.push({ name, shape: t.shape.slice(), offset: values.length, size: data.length });
      for (const x of data) values.push(x);
      if (t !== v) t.dispose();
    }
    if (values.length === 0) {
      throw new ArgumentError('initParams', 'expected at least one parameter with elements');
    }
    this.slots = slots;
    this.dim = values.length;
    this.initParams = Float64Array.from(values);
    const u = tf.tidy(() => fn(this.unpack(this.initParams)));
    const ok = u instanceof tf.Tensor && u.size === 1;
    const shape = u instanceof tf.Tensor ? `shape [${u.shape.join(',')}]` : typeof u;
    if (u instanceof tf.Tensor) u.dispose();
    if (!ok) {
      throw new ArgumentError('potentialFn', `expected a scalar tensor U(params), got ${shape}`);
    }
  }

  /** The parameters at `z` as float32 tensors (not tidied). */
  private unpack(z: Float64Array): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.slots) {
      out[s.name] = tf.tensor(Float32Array.from(z.subarray(s.offset, s.offset + s.size)), s.shape);
    }
    return out;
  }

  /** `U(z)` and `dU/dz` (float32 arithmetic, returned in float64). */
  valueAndGrad(z: Float64Array): PotentialPoint {
    if (z.length !== this.dim) {
      throw new ArgumentError('z', `expected ${this.dim} coordinates, got ${z.length}`);
    }
    const names = this.slots.map((s) => s.name);
    const { value, grads } = tf.tidy(() => {
      const params = this.unpack(z);
      const xs = names.map((n) => params[n] as tf.Tensor);
      const f = (...ts: tf.Tensor[]): tf.Scalar =>
        tf.sum(this.fn(Object.fromEntries(names.map((n, i) => [n, ts[i] as tf.Tensor]))));
      return withTapeCleanup(() => tf.valueAndGrads(f)(xs));
    });
    const grad = new Float64Array(this.dim);
    this.slots.forEach((s, i) => grad.set(grads[i]?.dataSync() ?? [], s.offset));
    const out = value.dataSync()[0] as number;
    tf.dispose([value, ...grads]);
    return { value: out, grad };
  }

  /** The parameters at `z` by name (the stored draws). */
  constrain(z: Float64Array): Map<string, { shape: number[]; values: Float32Array }> {
    const out = new Map<string, { shape: number[]; values: Float32Array }>();
    for (const s of this.slots) {
      out.set(s.name, {
        shape: s.shape,
        values: Float32Array.from(z.subarray(s.offset, s.offset + s.size)),
      });
    }
    return out;
  }
}

/**
 * A potential for `NUTS`/`HMC` from `U(θ)` and the initial parameters (Pyro's/NumPyro's
 * `potential_fn` with `init_params`). The parameter names `K` are those of `initParams`: `fn`
 * receives `{[k in K]: tf.Tensor}`, so `({ x, y }) => ...` type-checks under
 * `noUncheckedIndexedAccess`.
 *
 * @example
 * ```ts
 * // a banana: x ~ N(0, 1), y | x ~ N(x², 0.5²)
 * const pot = potentialFromFn(
 *   ({ x, y }) => tf.add(tf.mul(0.5, tf.square(x)), tf.mul(2, tf.square(tf.sub(y, tf.square(x))))),
 *   { x: 0, y: 0 },
 * );
 * const mcmc = new MCMC(new NUTS(pot), { numSamples: 1000 });
 * await mcmc.run();
 * mcmc.getSamples(); // {x: [1000], y: [1000]}
 * ```
 */
export function potentialFromFn<K extends string>(
  fn: (params: Record<K, tf.Tensor>) => tf.Tensor,
  initParams: Record<K, tf.Tensor | number | number[]>,
): FnPotential {
  return new FnPotential(fn as PotentialFn, initParams);
}
