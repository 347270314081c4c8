/**
 * Exact summation of enumerated discrete variables out of a plated factor graph (the core of
 * Pyro's `TraceEnum_ELBO`, `contract_tensor_tree`), by variable elimination in log space.
 *
 * Each factor is a log-density tensor whose axes carry labels: enumerated variables and plates.
 * Ordinals (sets of plates) are processed from the deepest outwards; at ordinal `O`:
 *
 * 1. every enumerated variable local to `O` is eliminated, `f = logsumexp_v Σ_{factors ∋ v} f_i`;
 * 2. the remaining factors are summed over the plates of `O` that their parent ordinal lacks
 *    (a product over conditionally independent members), scaled by `size / subsampleSize`,
 *    and handed to the parent.
 *
 * At the root the remaining variables are eliminated and everything is summed: the result is
 * `log Σ_z Π_factors p` exactly, while no intermediate holds more than the variables of the
 * factors being combined (a chain costs `O(T K^2)`, not `K^T`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';

/** A log-factor: `t.rank === dims.length`, axis `i` labelled `dims[i]`. */
export interface LabeledFactor {
  dims: string[];
  t: tf.Tensor;
}

/** Plate label info: its scale `size / subsampleSize`. */
export interface PlateInfo {
  name: string;
  scale: number;
}

/** Align factors to the union of their labels and add them. */
export function addFactors(fs: LabeledFactor[]): LabeledFactor {
  const dims: string[] = [];
  for (const f of fs) for (const d of f.dims) if (!dims.includes(d)) dims.push(d);
  let total: tf.Tensor | null = null;
  for (const f of fs) {
    const perm = dims.filter((d) => f.dims.includes(d)).map((d) => f.dims.indexOf(d));
    const moved = perm.every((p, i) => p === i) ? f.t : tf.transpose(f.t, perm);
    const shape = dims.map((d) => {
      const i = f.dims.indexOf(d);
      return i < 0 ? 1 : (f.t.shape[i] as number);
    });
    const r = tf.reshape(moved, shape);
    total = total === null ? r : tf.add(total, r);
  }
  return { dims, t: total ?? tf.scalar(0) };
}

function reduceLabel(
  f: LabeledFactor,
  label: string,
  how: 'logsumexp' | 'sum',
  scale = 1,
): LabeledFactor {
  const axis = f.dims.indexOf(label);
  if (axis < 0) return f;
  let t = how === 'logsumexp' ? tf.logSumExp(f.t, axis) : tf.sum(f.t, axis);
  if (scale !== 1) t = tf.mul(t, scale);
  return { dims: f.dims.filter((d) => d !== label), t };
}

/** An ordinal (set of plate names) as a map key. */
function key(plates: ReadonlySet<string>): string {
  return [...plates].sort().join('\u0000');
}

/**
 * `log Σ_{enumerated} Π exp(factors)` as a scalar.
 *
 * @param factors `{ordinal, factor}` pairs: the plates the factor's site lies in, and its tensor.
 * @param vars enumerated variables: label, and the ordinal (plates) of the site that made it, in
 *   elimination order.
 * @param plates every plate label's name and subsample scale (label `p:name`).
 */
export function contractFactors(
  factors: { ordinal: Set<string>; factor: LabeledFactor }[],
  vars: { label: string; ordinal: Set<string> }[],
  plates: Map<string, PlateInfo>,
): tf.Tensor {
  const byOrd = new Map<string, { ord: Set<string>; fs: LabeledFactor[] }>();
  const at = (ord: Set<string>): { ord: Set<string>; fs: LabeledFactor[] } => {
    const k = key(ord);
    let e = byOrd.get(k);
    if (e === undefined) {
      e = { ord, fs: [] };
      byOrd.set(k, e);
    }
    return e;
  };
  for (const { ordinal, factor } of factors) at(ordinal).fs.push(factor);
  at(new Set());
  const varOrds = [new Set<string>(), ...vars.map((v) => v.ordinal)];
  let total: tf.Tensor = tf.scalar(0);
  const done = new Set<string>();
  for (;;) {
    const pending = [...byOrd.entries()].filter(([k]) => !done.has(k));
    if (pending.length === 0) break;
    pending.sort((a, b) => b[1].ord.size - a[1].ord.size);
    const [k, { ord, fs: initial }] = pending[0] as [
      string,
      { ord: Set<string>; fs: LabeledFactor[] },
    ];
    done.add(k);
    let fs = initial;
    for (const v of vars) {
      if (key(v.ordinal) !== k) continue;
      const inv = fs.filter((f) => f.dims.includes(v.label));
      if (inv.length === 0) continue;
      const msg = reduceLabel(addFactors(inv), v.label, 'logsumexp');
      fs = [...fs.filter((f) => !f.dims.includes(v.label)), msg];
    }
    if (ord.size === 0) {
      for (const f of fs) {
        const stray = f.dims.find((d) => !d.startsWith('p:'));
        if (stray !== undefined) {
          throw new ArgumentError('model', `enumerated variable ${stray} could not be summed out`);
        }
        total = tf.add(total, tf.sum(f.t));
      }
      continue;
    }
    // parent: the largest ordinal of an enumerated variable (or the root) strictly inside ord
    let parent = new Set<string>();
    for (const o of varOrds) {
      if (o.size < ord.size && [...o].every((p) => ord.has(p)) && o.size > parent.size) parent = o;
    }
    const drop = [...ord].filter((p) => !parent.has(p));
    const up = at(parent);
    if (done.has(key(parent))) {
      throw new ArgumentError('model', 'plates nest inconsistently around enumerated sites');
    }
    for (let f of fs) {
      for (const p of drop) {
        const scale = plates.get(`p:${p}`)?.scale ?? 1;
        if (f.dims.includes(`p:${p}`)) f = reduceLabel(f, `p:${p}`, 'sum', scale);
        else if (scale !== 1) f = { dims: f.dims, t: tf.mul(f.t, scale) };
      }
      if (f.dims.length === 0) total = tf.add(total, f.t);
      else up.fs.push(f);
    }
  }
  return total;
}
