/**
 * The parameter store (Pyro's `ParamStoreDict`): a global map from parameter names to
 * unconstrained trainable `tf.Variable`s and their constraints.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { real, type Constraint } from './constraints.js';
import type { ParamInit } from './runtime.js';

interface Entry {
  unconstrained: tf.Variable;
  constraint: Constraint;
}

let variableCounter = 0;

/**
 * A map `name -> (u, constraint)`; `get` returns the constrained value `constraint.forward(u)`.
 *
 * @example
 * ```ts
 * const store = getParamStore();
 * store.get('scale', 1, positive);    // creates u = softplus^{-1}(1)
 * store.value('scale');               // a new tensor [1]
 * store.clear();
 * ```
 */
export class ParamStore {
  private readonly entries = new Map<string, Entry>();

  /** Number of parameters. */
  get size(): number {
    return this.entries.size;
  }

  /** Whether a parameter exists. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Parameter names in creation order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The constrained value of `name`, creating the parameter from `init` on first use. The result
   * is the variable itself for `real` parameters, otherwise a new tensor (differentiable in `u`).
   */
  get(name: string, init?: ParamInit, constraint?: Constraint): tf.Tensor {
    let e = this.entries.get(name);
    if (e === undefined) {
      if (init === undefined) {
        throw new ArgumentError('init', `param '${name}' does not exist and has no initial value`);
      }
      this.set(name, init, constraint ?? real);
      e = this.entries.get(name) as Entry;
    }
    return e.constraint === real ? e.unconstrained : e.constraint.forward(e.unconstrained);
  }

  /** A new tensor holding the constrained value of `name` (not differentiable). */
  value(name: string): tf.Tensor {
    const e = this.entry(name);
    return tf.tidy(() => e.constraint.forward(e.unconstrained).clone());
  }

  /** The unconstrained variable of `name` (what optimizers update). */
  unconstrained(name: string): tf.Variable {
    return this.entry(name).unconstrained;
  }

  /** The constraint of `name`. */
  constraintOf(name: string): Constraint {
    return this.entry(name).constraint;
  }

  /** Set (or replace) `name` to the constrained value `init`. */
  set(name: string, init: ParamInit, constraint: Constraint = real): void {
    const u = tf.tidy(() => {
      const x0 = typeof init === 'function' ? init() : init;
      const x = x0 instanceof tf.Tensor ? x0 : tf.tensor(x0);
      const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const vals = xf.dataSync();
      for (let i = 0; i < vals.length; i++) {
        if (!constraint.check(vals[i] as number)) {
          throw new ArgumentError(
            'init',
            `param '${name}': initial value ${vals[i]} at index ${i} is not ${constraint.name}`,
          );
        }
      }
      return constraint.inverse(xf);
    });
    const old = this.entries.get(name);
    const v = tf.variable(u, true, `ppl/${name}#${variableCounter++}`);
    u.dispose();
    if (old !== undefined) old.unconstrained.dispose();
    this.entries.set(name, { unconstrained: v, constraint });
  }

  /** Remove one parameter and free its variable. */
  delete(name: string): void {
    const e = this.entries.get(name);
    if (e !== undefined) e.unconstrained.dispose();
    this.entries.delete(name);
  }

  /** The trainable variables of all parameters (or of `names`). */
  variables(names?: string[]): tf.Variable[] {
    return (names ?? this.names()).map((n) => this.entry(n).unconstrained);
  }

  /** Remove every parameter and free the variables. */
  clear(): void {
    for (const e of this.entries.values()) e.unconstrained.dispose();
    this.entries.clear();
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (e === undefined) throw new ArgumentError('name', `no parameter named '${name}'`);
    return e;
  }
}

const globalStore = new ParamStore();

/** The global parameter store used by {@link param}. */
export function getParamStore(): ParamStore {
  return globalStore;
}

/** Clear the global parameter store (Pyro's `pyro.clear_param_store()`). */
export function clearParamStore(): void {
  globalStore.clear();
}
