/**
 * The backward pass of variable elimination (Pyro's `infer_discrete` backward sampling through
 * `einsum/adjoint.py`, with its `SampleRing` / `MapRing`): given the factor each enumerated
 * variable was eliminated from ({@link eliminationTables}), fix the variables from the last
 * eliminated to the first. Variable `v`'s factor holds `v`, variables eliminated after it (fixed
 * already) and plates of its ordinal; fixing those variables leaves, per plate member `i`,
 *
 * $$\phi_i(k) = \log p(z_{v,i} = k \mid z_{\text{later}}) + c_i \quad (\text{sum-product}),$$
 *
 * so drawing `z_{v,i} ~ softmax(phi_i)` for every variable in turn is one exact draw of the
 * joint posterior (forward filtering, backward sampling), and under max-product
 * `z_{v,i} = argmax_k phi_i(k)` is the joint most probable assignment (Viterbi's traceback).
 * Members of a plate are independent given the variables of the outer plates, which are
 * eliminated later and so fixed first.
 */
import * as tf from '@tensorflow/tfjs';
import { Categorical } from '../../distributions/categorical.js';
import { ArgumentError } from '../../utils/errors.js';
import { addFactors, type EliminationStep, type LabeledFactor } from './contract.js';

/** A variable to fix: its label, support size and the plates of its ordinal. */
export interface BacktrackVar {
  label: string;
  /** The number of values `K` (the size of its axis). */
  size: number;
  /** Its plates, as labels (`p:name`) with the number of members visited. */
  plates: { label: string; size: number }[];
}

/**
 * `f` at the values of variable `label` (an int32 tensor over the plates `value.dims`): the axis
 * `label` is dropped, each member keeping the entry its value picks.
 */
function select(f: LabeledFactor, label: string, value: LabeledFactor): LabeledFactor {
  const k = f.t.shape[f.dims.indexOf(label)] as number;
  const flat = tf.oneHot(tf.reshape(value.t, [-1]), k);
  const logPick = tf.log(tf.reshape(tf.cast(flat, 'float32'), [...value.t.shape, k]));
  const joined = addFactors([f, { dims: [...value.dims, label], t: logPick }]);
  const axis = joined.dims.indexOf(label);
  return { dims: joined.dims.filter((d) => d !== label), t: tf.max(joined.t, axis) };
}

/** The value of `v` per plate member from its factor (over `v` and some of its plates). */
function draw(
  f: LabeledFactor,
  v: BacktrackVar,
  temperature: 0 | 1,
  rngSeed: number,
): LabeledFactor {
  const dims = [...v.plates.map((p) => p.label), v.label];
  const stray = f.dims.find((d) => !dims.includes(d));
  if (stray !== undefined) {
    throw new ArgumentError(
      'model',
      `enumerated variable ${v.label.replace(/^e:/, '')}: a factor holding it lies in plate ` +
        `${stray.replace(/^p:/, '')}, which does not contain it (the plates do not nest as a ` +
        'tree around it)',
    );
  }
  // broadcast to every member of its plates: members are drawn independently
  const full = tf.zeros([...v.plates.map((p) => p.size), v.size]);
  const logits = addFactors([{ dims, t: full }, f]).t;
  const idx =
    temperature === 0
      ? tf.argMax(logits, -1)
      : tf.cast(new Categorical({ logits }).sample([], rngSeed), 'int32');
  return { dims: dims.slice(0, -1), t: idx };
}

/**
 * Fix every variable of `vars` by the backward pass (see the module docs): returns, per label,
 * its value index (`0..K-1`) as an int32 tensor over its plates, in the order `v.plates`
 * (untidied: call inside `tf.tidy`).
 *
 * @param steps the forward pass's {@link EliminationStep}s, in elimination order.
 * @param vars every variable; one with no step (no factor holds it) is uniform (its first value
 *   at temperature 0).
 * @param temperature `1`: a draw of the joint posterior (after sum-product steps); `0`: the
 *   maximizing assignment (after max-product steps).
 * @param nextSeed a seed per draw (temperature 1).
 */
export function backtrack(
  steps: EliminationStep[],
  vars: BacktrackVar[],
  temperature: 0 | 1,
  nextSeed: () => number,
): Map<string, LabeledFactor> {
  const byLabel = new Map(vars.map((v) => [v.label, v]));
  const fixed = new Map<string, LabeledFactor>();
  const ordered: { v: BacktrackVar; factor: LabeledFactor }[] = [];
  for (const { label, factor } of [...steps].reverse()) {
    const v = byLabel.get(label);
    if (v === undefined) throw new ArgumentError('steps', `no variable labelled ${label}`);
    ordered.push({ v, factor });
  }
  for (const v of vars) {
    if (!steps.some((s) => s.label === v.label))
      ordered.push({ v, factor: { dims: [], t: tf.scalar(0) } });
  }
  for (const { v, factor } of ordered) {
    let f = factor;
    for (const d of factor.dims) {
      if (d === v.label || d.startsWith('p:')) continue;
      const value = fixed.get(d);
      if (value === undefined) {
        throw new ArgumentError(
          'model',
          `enumerated variable ${v.label.replace(/^e:/, '')} is coupled to ${d}, which is ` +
            'neither fixed nor summed out before it (the plates do not nest as a tree around it)',
        );
      }
      f = select(f, d, value);
    }
    fixed.set(v.label, draw(f, v, temperature, temperature === 1 ? nextSeed() : 0));
  }
  return fixed;
}
