/**
 * `scan`: NumPyro's `numpyro.contrib.control_flow.scan`, a loop over time whose sample sites
 * are recorded once each, stacked along a leading time dim.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { checkOptionKeys } from '../../../utils/options.js';
import { PlateMessenger } from '../../handlers/plate.js';
import { HANDLER_STACK } from '../../runtime.js';
import { ScanMessenger } from './scan_messenger.js';
import { mapTree, stackTrees, treeLeaves, type ScanTree } from './scan_tree.js';

/** Options of {@link scan} (NumPyro's keyword arguments). */
export interface ScanOptions {
  /** Number of steps `T`; needed when `xs` is null, else it must equal `xs`'s leading size. */
  length?: number;
  /** Run the steps from `t = T - 1` down to `0` (outputs still indexed by `t`). Default false. */
  reverse?: boolean;
  /**
   * NumPyro's Markov history of the steps (an integer >= 0, default 1): how many previous steps
   * a step's enumerated discrete sites may depend on. It matters for enumeration only, which
   * scan does not support (parallel-enumerated sites are refused), so every value gives the same
   * run; it is checked and accepted for NumPyro's signature.
   */
  history?: number;
}

const SCAN_OPTIONS = ['length', 'reverse', 'history'] as const;

/** The body of a scan: `(carry, x_t) -> [carry, y_t]`. */
export type ScanBody<C, X, Y> = (carry: C, x: X) => readonly [C, Y];

function checkedLength(xs: unknown, options: ScanOptions): number {
  const leaves = treeLeaves(xs, 'xs');
  for (const { path, leaf } of leaves) {
    if (leaf.rank === 0) {
      throw new ArgumentError('xs', `scan: ${path} is a scalar; expected a leading time dim`);
    }
  }
  const first = leaves[0];
  for (const { path, leaf } of leaves) {
    if (first !== undefined && leaf.shape[0] !== first.leaf.shape[0]) {
      throw new ArgumentError(
        'xs',
        `scan: ${path} has ${leaf.shape[0]} steps (shape [${leaf.shape.join(',')}]) but ` +
          `${first.path} has ${first.leaf.shape[0]}; every leaf of xs needs one leading size`,
      );
    }
  }
  const n = options.length;
  if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 1)) {
    throw new ArgumentError('length', `scan: expected an integer >= 1, got ${String(n)}`);
  }
  if (first === undefined) {
    if (n === undefined) {
      throw new ArgumentError(
        'length',
        'scan: xs has no tensor; give the number of steps as length',
      );
    }
    return n;
  }
  const T = first.leaf.shape[0] as number;
  if (n !== undefined && n !== T) {
    throw new ArgumentError(
      'length',
      `scan: length is ${n} but xs has ${T} steps (leading size of ${first.path})`,
    );
  }
  if (T < 1) throw new ArgumentError('xs', 'scan: xs has 0 steps; expected at least one');
  return T;
}

function checkOptions(options: ScanOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `scan: expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, SCAN_OPTIONS, 'scan');
  if (options.reverse !== undefined && typeof options.reverse !== 'boolean') {
    throw new ArgumentError(
      'reverse',
      `scan: expected true or false, got ${String(options.reverse)}`,
    );
  }
  const h = options.history;
  if (h !== undefined && (typeof h !== 'number' || !Number.isInteger(h) || h < 0)) {
    throw new ArgumentError('history', `scan: expected an integer >= 0, got ${String(h)}`);
  }
}

/**
 * Scan `f` over time (NumPyro's `scan(f, init, xs, length, reverse, history)`, `jax.lax.scan`
 * with effects): with `c_{-1} = init`,
 *
 * $$(c_t, y_t) = f(c_{t-1}, x_t), \quad t = 0, \dots, T-1, \qquad
 * \text{returns } (c_{T-1}, [y_0, \dots, y_{T-1}]),$$
 *
 * (with `reverse`, `t` runs from `T - 1` down to `0`; `ys[t]` still belongs to `xs[t]`). `xs` and
 * the `y_t` are tensor trees (a tensor, null, arrays and plain objects of them); `xs` is sliced
 * along its leading axis, the `y_t` are stacked along a new one.
 *
 * Inside handlers, each sample site `s` made at every step (`sample`, `deterministic`,
 * `factor`, observations) is recorded **once**, under its own name, with the stacked value
 * `s = [s_0, ..., s_{T-1}]` (shape `[T, ...]`) and a {@link StackedDistribution} whose
 * log-density has shape `[T, ...batch]`:
 *
 * $$\log p(s) = \sum_{t=0}^{T-1} \log p_t(s_t \mid c_{t-1}, x_t),$$
 *
 * the log-density of the hand-written loop, so traces, ELBOs, MCMC potentials, autoguides (one
 * latent `[T, ...]` per site) and `Predictive` see one site per name. Handlers outside the scan
 * address the stacked site: `condition`/`substitute`/`replay` give it a value `[L, ...]` and step
 * `t` takes row `t` (with `L < T`, the steps `t >= L` are drawn: NumPyro's forecasting pattern,
 * `condition` on the first `L` observations and predict the rest), or a value of one step's shape
 * given to every step; `seed` seeds the site and its steps' draws follow; `block`, `scale`,
 * `mask` and `trace` apply to the stacked site. Handlers that rewrite a site apply to each step's
 * site, as to a site of the hand-written loop (NumPyro runs the outer handlers inside the body):
 * `reparam` (its auxiliary sites, e.g. `x_decentered`, are made by the steps and stacked; the
 * site itself becomes the stacked deterministic value) and `intervene` (`do`: the value `[T, ...]`
 * of the stacked site, or one step's value for every step, is what the steps downstream see,
 * while the site is still drawn); a `block` between the scan and such a handler hides the steps
 * from it. Plates inside `f` work as usual (each step's
 * sites broadcast to them; the time dim is left of their dims). A `param` read in several steps is one param site.
 *
 * Not supported (each an `ArgumentError` naming the site): parallel enumeration inside `f`
 * (a site marked `infer: {enumerate: 'parallel'}` under an `enumerate` handler: `TraceEnumELBO`,
 * `inferDiscrete`, MCMC's enumeration; without one, e.g. under `trace` or `Predictive`, the site
 * is drawn, as in Pyro and NumPyro; use `markov` with a loop, or `DiscreteHMM`), a scan inside a scan, a scan inside a `plate` (NumPyro's
 * rule: put the plate inside `f`; so no vectorized particles, vectorized chains or parallel
 * `Predictive` around a scan); sites must appear at every step with
 * one value shape, one scale and one support (the first step's).
 *
 * @param f the body `(carry, x_t) => [carry, y_t]`.
 * @param init the initial carry (any value; passed to `f` untouched).
 * @param xs the per-step inputs (a tensor tree with one leading size `T`), or null.
 * @param options `length` (needed when `xs` is null), `reverse`, `history`.
 * @returns `[lastCarry, ys]`, `ys` the `y_t` stacked along a leading axis.
 * @throws ArgumentError naming `f`, `xs`, `length`, `reverse`, `history`, an unknown option or
 *   an enclosing plate (before the first step), or the site or `f` (a body not returning `[carry, y]`) while running.
 * @example
 * ```ts
 * // AR(1): y_t ~ Normal(rho * y_{t-1}, sigma), observed
 * const model = (ys: tf.Tensor) => {
 *   const rho = sample('rho', new Uniform(-1, 1));
 *   const sigma = sample('sigma', new HalfNormal(1));
 *   scan((prev: tf.Tensor, y: tf.Tensor) => {
 *     const yt = sample('y', new Normal(tf.mul(rho, prev), sigma), { obs: y });
 *     return [yt, null];
 *   }, tf.scalar(0), ys);
 * };
 * ```
 */
export function scan<C, X extends ScanTree, Y extends ScanTree>(
  f: ScanBody<C, X, Y>,
  init: C,
  xs: X | null,
  options: ScanOptions = {},
): [C, Y] {
  if (typeof f !== 'function') {
    throw new ArgumentError(
      'f',
      `scan: expected the body (carry, x) => [carry, y], got ${typeof f}`,
    );
  }
  checkOptions(options);
  const T = checkedLength(xs, options);
  if (HANDLER_STACK.some((h) => h instanceof ScanMessenger)) {
    throw new ArgumentError('f', 'scan: a scan inside the body of another scan is not supported');
  }
  const outer = HANDLER_STACK.find((h): h is PlateMessenger => h instanceof PlateMessenger);
  if (outer !== undefined) {
    const name = outer.frame.name;
    throw new ArgumentError(
      name,
      `scan inside plate '${name}' is not supported (as in NumPyro: the time dim and the ` +
        "plate's dims would be ambiguous; vectorized particles, chains and parallel Predictive " +
        'run models inside such a plate): put the plate inside the body f',
    );
  }
  const reverse = options.reverse ?? false;
  const body = (messenger: ScanMessenger | null): [C, Y] => {
    const columns = treeLeaves(xs, 'xs').map(({ leaf }) => tf.unstack(leaf));
    const xAt = (t: number): X => {
      let k = 0;
      return mapTree(xs, () => (columns[k++] as tf.Tensor[])[t] as tf.Tensor) as X;
    };
    let carry = init;
    const ys = new Array<unknown>(T);
    const loop = (): void => {
      for (let k = 0; k < T; k++) {
        const t = reverse ? T - 1 - k : k;
        if (messenger !== null) {
          messenger.slot = t;
          messenger.started = k + 1;
        }
        const out: unknown = f(carry, xAt(t));
        if (!Array.isArray(out) || out.length !== 2) {
          throw new ArgumentError(
            'f',
            `scan: the body must return [carry, y] (a pair), got ${Array.isArray(out) ? `an array of ${out.length}` : typeof out} at step ${t}`,
          );
        }
        carry = out[0] as C;
        ys[t] = out[1];
      }
    };
    if (messenger === null) loop();
    else {
      messenger.run(loop);
      messenger.emitSites();
    }
    const stacked = ys.every((y) => y === null || y === undefined) ? ys[0] : stackTrees(ys, 'f');
    return [carry, stacked as Y];
  };
  if (HANDLER_STACK.length === 0) {
    // nobody records the steps: only the last carry and ys outlive the call
    return tf.tidy(() => body(null) as unknown as tf.TensorContainer) as unknown as [C, Y];
  }
  return body(new ScanMessenger(T));
}
