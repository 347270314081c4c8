/**
 * The parameter store (Pyro's `ParamStoreDict`): a global map from parameter names to
 * unconstrained trainable `tf.Variable`s `u` and their constraints; `get` hands out the
 * constrained value `T(u)` with `T` the constraint's transform ({@link paramTransform}). The
 * store saves to and loads from a JSON description plus one flat float32 weight buffer
 * (`save()`/`load()`; files through `saveParamStore`/`loadParamStore` of `deepprob/node`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { isNumericLike } from '../utils/tensor.js';
import { paramTransform, real, type Constraint, type ParamTransform } from './constraints.js';
import { constraintFromSpec, constraintToSpec, type ConstraintSpec } from './constraint_spec.js';
import type { ParamInit } from './runtime.js';

interface Entry {
  unconstrained: tf.Variable;
  constraint: Constraint;
  transform: ParamTransform;
  /** False for a variable the store only refers to ({@link ParamStore.adopt}): never disposed here. */
  owned?: boolean;
}

/** Free an entry's variable (when the store owns it) and its transform. */
function release(e: Entry): void {
  if (e.owned !== false) e.unconstrained.dispose();
  e.transform.dispose();
}

let variableCounter = 0;

/** The JSON half of a saved store: one record per parameter, in creation order. */
export interface ParamStoreSpec {
  format: 'deepprob-param-store';
  version: 1;
  params: { name: string; constraint: ConstraintSpec; shape: number[]; offset: number }[];
}

/** A saved store: the JSON description and the unconstrained values, concatenated. */
export interface SavedParamStore {
  spec: ParamStoreSpec;
  weights: Float32Array;
}

/** `tf.tensor(v)` for numbers or nested arrays of numbers; an `ArgumentError` naming `init` else. */
function numericTensor(v: unknown, name: string): tf.Tensor {
  if (!isNumericLike(v)) {
    throw new ArgumentError(
      'init',
      `param '${name}': expected a tensor, a number, an array of numbers or a function returning a tensor, got ${typeof v}`,
    );
  }
  return tf.tensor(v as tf.TensorLike);
}

/**
 * A map `name -> (u, constraint)`; `get` returns the constrained value `T(u)`.
 *
 * @example
 * ```ts
 * const store = getParamStore();
 * store.get('scale', 1, positive);    // creates u = softplus^{-1}(1)
 * store.value('scale');               // a new tensor [1]
 * const saved = store.save();         // {spec, weights}
 * store.clear();
 * store.load(saved);                  // the same parameters again
 * ```
 */
export class ParamStore {
  private readonly entries = new Map<string, Entry>();

  /** The name sets of the active {@link ParamStore.trackAccess} calls. */
  private readonly trackers: Set<string>[] = [];

  /**
   * Run `fn`, adding to `names` the name of every parameter it reads (`get`, as `param` sites
   * do): SVI finds the parameters each step touches, which may differ between steps (Pyro's
   * semi-supervised VAE alternates a step with the classifier and one without).
   *
   * @param names the set to add to. @param fn the body; its result is returned.
   */
  trackAccess<T>(names: Set<string>, fn: () => T): T {
    this.trackers.push(names);
    try {
      return fn();
    } finally {
      this.trackers.splice(this.trackers.lastIndexOf(names), 1);
    }
  }

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
   * @param track whether an active {@link ParamStore.trackAccess} counts the read (default true;
   *   false for a param site hidden by `block`, which Pyro's SVI does not capture or optimize).
   */
  get(name: string, init?: ParamInit, constraint?: Constraint, track = true): tf.Tensor {
    if (track) for (const t of this.trackers) t.add(name);
    let e = this.entries.get(name);
    if (e === undefined) {
      if (init === undefined) {
        throw new ArgumentError('init', `param '${name}' does not exist and has no initial value`);
      }
      this.set(name, init, constraint ?? real);
      e = this.entries.get(name) as Entry;
    }
    return e.constraint.kind === 'real' ? e.unconstrained : e.transform.forward(e.unconstrained);
  }

  /** A new tensor holding the constrained value of `name` (not differentiable). */
  value(name: string): tf.Tensor {
    const e = this.entry(name);
    return tf.tidy(() => e.transform.forward(e.unconstrained).clone());
  }

  /** The unconstrained variable of `name` (what optimizers update). */
  unconstrained(name: string): tf.Variable {
    return this.entry(name).unconstrained;
  }

  /** The constraint of `name`. */
  constraintOf(name: string): Constraint {
    return this.entry(name).constraint;
  }

  /** Set (or replace) `name` to the constrained value `init` (which must satisfy `constraint`). */
  set(name: string, init: ParamInit, constraint: Constraint = real): void {
    if (typeof constraint !== 'object' || typeof constraint.check !== 'function') {
      throw new ArgumentError('constraint', `param '${name}': expected a Constraint`);
    }
    const transform = constraint.kind === 'real' ? identity : paramTransform(constraint);
    let u: tf.Tensor;
    try {
      u = tf.tidy(() => {
        const x0 = typeof init === 'function' ? init() : init;
        const x = x0 instanceof tf.Tensor ? x0 : numericTensor(x0, name);
        if (x.dtype === 'string' || x.dtype === 'complex64') {
          throw new ArgumentError(
            'init',
            `param '${name}': expected a numeric value, got ${x.dtype}`,
          );
        }
        const xf = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
        const ok = constraint.check(xf);
        const flags = ok.dataSync();
        const vals = xf.dataSync();
        for (let i = 0; i < flags.length; i++) {
          if (!flags[i]) {
            const at = Math.floor((i * vals.length) / flags.length);
            throw new ArgumentError(
              'init',
              `param '${name}': initial value ${vals[at]} at index ${at} is not in ${constraint.name}`,
            );
          }
        }
        return transform.inverse(xf);
      });
    } catch (e) {
      transform.dispose();
      throw e;
    }
    this.install(name, u, constraint, transform);
  }

  private install(name: string, u: tf.Tensor, constraint: Constraint, transform: ParamTransform) {
    const old = this.entries.get(name);
    const v = tf.variable(u, true, `ppl/${name}#${variableCounter++}`);
    u.dispose();
    if (old !== undefined) release(old);
    this.entries.set(name, { unconstrained: v, constraint, transform });
  }

  /**
   * Register an existing trainable variable (a network's weight) as the real-valued parameter
   * `name` without copying it (Pyro's `pyro.module` registering a module's own parameters): SVI
   * then updates the variable in place. The store never disposes an adopted variable (`delete`,
   * `clear` and replacing the entry only forget it).
   * @throws ArgumentError naming `variable` for a disposed or non-trainable variable.
   */
  adopt(name: string, variable: tf.Variable): void {
    if (!(variable instanceof tf.Variable) || variable.isDisposed || !variable.trainable) {
      throw new ArgumentError('variable', `param '${name}': expected a live trainable tf.Variable`);
    }
    const old = this.entries.get(name);
    if (old !== undefined) release(old);
    this.entries.set(name, {
      unconstrained: variable,
      constraint: real,
      transform: identity,
      owned: false,
    });
  }

  /** Remove one parameter and free its variable. */
  delete(name: string): void {
    const e = this.entries.get(name);
    if (e !== undefined) release(e);
    this.entries.delete(name);
  }

  /** The trainable variables of all parameters (or of `names`). */
  variables(names?: string[]): tf.Variable[] {
    return (names ?? this.names()).map((n) => this.entry(n).unconstrained);
  }

  /** Remove every parameter and free the variables. */
  clear(): void {
    for (const e of this.entries.values()) release(e);
    this.entries.clear();
  }

  /**
   * The store as a JSON description (names, constraints, shapes, offsets) and one float32
   * buffer of the unconstrained values (Pyro's `get_state`).
   */
  save(): SavedParamStore {
    const params: ParamStoreSpec['params'] = [];
    let offset = 0;
    for (const [name, e] of this.entries) {
      params.push({
        name,
        constraint: constraintToSpec(e.constraint),
        shape: [...e.unconstrained.shape],
        offset,
      });
      offset += e.unconstrained.size;
    }
    const weights = new Float32Array(offset);
    for (const [i, e] of [...this.entries.values()].entries()) {
      weights.set(e.unconstrained.dataSync(), (params[i] as { offset: number }).offset);
    }
    return { spec: { format: 'deepprob-param-store', version: 1, params }, weights };
  }

  /**
   * Load a saved store (Pyro's `set_state`): every saved parameter replaces the one of the same
   * name; others are kept. Checks the description against the buffer before changing anything.
   * @throws ArgumentError naming `saved`, `saved.weights` or `saved.spec.params[i]` (a missing or
   *   repeated name, a shape not of integers >= 0, values outside the buffer).
   */
  load(saved: SavedParamStore): void {
    const spec = saved?.spec;
    const w = saved?.weights;
    if (
      spec?.format !== 'deepprob-param-store' ||
      spec.version !== 1 ||
      !Array.isArray(spec.params)
    ) {
      throw new ArgumentError('saved', 'expected {spec, weights} made by ParamStore.save()');
    }
    if (!(w instanceof Float32Array)) {
      throw new ArgumentError('saved.weights', 'expected a Float32Array');
    }
    const names = new Set<string>();
    const parsed = spec.params.map((p, i) => {
      const e = p as Partial<ParamStoreSpec['params'][number]> | null;
      const where = `saved.spec.params[${i}]`;
      if (typeof e?.name !== 'string' || e.name === '') {
        throw new ArgumentError(where, `expected a parameter name, got ${JSON.stringify(e?.name)}`);
      }
      if (names.has(e.name)) {
        throw new ArgumentError(where, `parameter '${e.name}' appears twice`);
      }
      names.add(e.name);
      if (
        !Array.isArray(e.shape) ||
        !e.shape.every((d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= 0)
      ) {
        throw new ArgumentError(
          where,
          `param '${e.name}' has shape ${JSON.stringify(e.shape)}: expected integers >= 0`,
        );
      }
      const size = p.shape.reduce((a, b) => a * b, 1);
      if (!Number.isInteger(p.offset) || p.offset < 0 || p.offset + size > w.length) {
        throw new ArgumentError(
          'saved.weights',
          `param '${p.name}' needs ${size} values at offset ${p.offset}; the buffer has ${w.length}`,
        );
      }
      return { p, size, constraint: constraintFromSpec(p.constraint) };
    });
    for (const { p, size, constraint } of parsed) {
      const transform = constraint.kind === 'real' ? identity : paramTransform(constraint);
      const u = tf.tensor(w.slice(p.offset, p.offset + size), p.shape, 'float32');
      const old = this.entries.get(p.name);
      const same = old !== undefined && old.unconstrained.shape.join() === u.shape.join();
      if (old?.owned === false && constraint.kind === 'real' && same) {
        // an adopted variable (a network's weight, `pyroModule`) takes the saved values in place
        old.unconstrained.assign(u);
        u.dispose();
        transform.dispose();
        continue;
      }
      this.install(p.name, u, constraint, transform);
    }
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (e === undefined) throw new ArgumentError('name', `no parameter named '${name}'`);
    return e;
  }
}

const identity: ParamTransform = {
  forward: (u) => u,
  inverse: (x) => x,
  inverseShape: (s) => [...s],
  dispose: () => undefined,
};

const globalStore = new ParamStore();

/** The global parameter store used by {@link param}. */
export function getParamStore(): ParamStore {
  return globalStore;
}

/** Clear the global parameter store (Pyro's `pyro.clear_param_store()`). */
export function clearParamStore(): void {
  globalStore.clear();
}
