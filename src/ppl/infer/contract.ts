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
 *
 * With `op: 'max'` variables are maximized instead (max-product); {@link marginalFactor} stops at
 * one variable's ordinal and returns its factor. {@link eliminationTables} runs the whole
 * elimination and keeps, per variable, the factor it was eliminated from: what a backward pass
 * (`backtrack.ts`, how `inferDiscrete` samples or maximizes the variables jointly) needs.
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
  how: 'logsumexp' | 'max' | 'sum',
  scale = 1,
): LabeledFactor {
  const axis = f.dims.indexOf(label);
  if (axis < 0) return f;
  let t =
    how === 'logsumexp'
      ? tf.logSumExp(f.t, axis)
      : how === 'max'
        ? tf.max(f.t, axis)
        : tf.sum(f.t, axis);
  if (scale !== 1) t = tf.mul(t, scale);
  return { dims: f.dims.filter((d) => d !== label), t };
}

/** An ordinal (set of plate names) as a map key. */
function key(plates: ReadonlySet<string>): string {
  return [...plates].sort().join('\u0000');
}

/** How an enumerated variable is eliminated: summed (`logsumexp`) or maximized (`max`). */
export type EliminationOp = 'logsumexp' | 'max';

/** A factor in the plates of its site. */
export interface OrdinalFactor {
  ordinal: Set<string>;
  factor: LabeledFactor;
}

/** An enumerated variable: its label and the plates of the site that made it. */
export interface EnumVar {
  label: string;
  ordinal: Set<string>;
}

/**
 * `log Σ_{enumerated} Π exp(factors)` as a scalar (with `op: 'max'`, `log max_{enumerated} Π ...`).
 *
 * @param factors `{ordinal, factor}` pairs: the plates the factor's site lies in, and its tensor.
 * @param vars enumerated variables: label, and the ordinal (plates) of the site that made it, in
 *   elimination order.
 * @param plates every plate label's name and subsample scale (label `p:name`).
 * @param op how variables are eliminated (default `logsumexp`: sum-product).
 * @param weigh applied to every factor at the ordinal where its plates are summed, before they
 *   are (with `parent`, the ordinal it is handed to): a term that holds no enumerated variable any
 *   more (Pyro's `contract_tensor_tree` terms) is summed as `weigh` returns it (how sequentially
 *   enumerated guide sites weight the model's terms, `seq_enum.ts`); default none.
 * @param free labels of axes outside plates that are not variables (the dims of guide sites
 *   enumerated in parallel, outside plates): never eliminated, they reach the root, where `weigh`
 *   must take them out (an expectation under the guide); default none.
 */
export function contractFactors(
  factors: OrdinalFactor[],
  vars: EnumVar[],
  plates: Map<string, PlateInfo>,
  op: EliminationOp = 'logsumexp',
  weigh?: TermWeigher,
  free?: ReadonlySet<string>,
): tf.Tensor {
  return eliminate(factors, vars, plates, op, undefined, undefined, weigh, free) as tf.Tensor;
}

/**
 * Weighs a factor of the contraction at the ordinal `ordinal` where its plates are summed, before
 * it goes to the ordinal `parent` (the plates of the variables it still holds; at the root,
 * `ordinal` itself); returns a factor with the same labels.
 */
export type TermWeigher = (
  ordinal: ReadonlySet<string>,
  term: LabeledFactor,
  parent: ReadonlySet<string>,
) => LabeledFactor;

/**
 * The factor of one enumerated variable `keep` once every other variable that does not lie in
 * a strict subset of its plates is eliminated (summed or maximized) and the plates nested inside
 * its own are reduced: a tensor over `keep`'s label and its plates,
 *
 * $$\phi_i(k) = \log \sum_{\text{others}} \prod \exp(\text{factors}) \big|_{z_{\text{keep}, i} = k}
 *   + \text{const},$$
 *
 * whose per-plate-member normalization is the conditional `p(z_keep,i = k | rest)` when every
 * variable in an outer ordinal is fixed (not enumerated): how `inferDiscrete` samples.
 *
 * @param keep the label of the variable to keep.
 * @throws ArgumentError (`model`) when a factor holding `keep` would leave its ordinal (plates
 *   that do not nest as a tree around it), or a factor of `keep` still holds another variable.
 */
export function marginalFactor(
  factors: OrdinalFactor[],
  vars: EnumVar[],
  plates: Map<string, PlateInfo>,
  keep: string,
  op: EliminationOp = 'logsumexp',
): LabeledFactor {
  if (!vars.some((v) => v.label === keep)) {
    throw new ArgumentError('keep', `no enumerated variable labelled ${keep}`);
  }
  return eliminate(factors, vars, plates, op, keep) as LabeledFactor;
}

/**
 * One step of variable elimination: the variable `label` was eliminated (summed or maximized)
 * from `factor`, the sum of every factor holding it at that point, whose axes are `label`, the
 * variables eliminated after it and plates of its ordinal. Given values of those later variables,
 * `factor` is `log p(z_label = k | later variables) + const` (sum-product) or the best log-joint
 * with `z_label = k` (max-product), per member of its plates.
 */
export interface EliminationStep {
  label: string;
  factor: LabeledFactor;
}

/**
 * Variable elimination of every enumerated variable (as {@link contractFactors}), keeping the
 * factor each variable was eliminated from, in elimination order (deepest plates first, then run
 * order): the forward pass whose backward pass fixes the variables from the last eliminated to the
 * first (`backtrack.ts`). A variable no factor holds has no step.
 *
 * @throws ArgumentError (`model`) when the plates do not nest as a tree around the variables.
 */
export function eliminationTables(
  factors: OrdinalFactor[],
  vars: EnumVar[],
  plates: Map<string, PlateInfo>,
  op: EliminationOp = 'logsumexp',
): EliminationStep[] {
  const steps: EliminationStep[] = [];
  eliminate(factors, vars, plates, op, undefined, steps);
  return steps;
}

/**
 * Variable elimination over the plate tree (see the module docs); with `keep`, stops at its
 * ordinal and returns the sum of the factors holding it; with `record`, appends each variable's
 * {@link EliminationStep}.
 */
function eliminate(
  factors: OrdinalFactor[],
  vars: EnumVar[],
  plates: Map<string, PlateInfo>,
  op: EliminationOp,
  keep: string | undefined,
  record?: EliminationStep[],
  weigh?: TermWeigher,
  free?: ReadonlySet<string>,
): tf.Tensor | LabeledFactor {
  const how = op === 'max' ? 'max' : 'logsumexp';
  const keepOrd = vars.find((v) => v.label === keep)?.ordinal;
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
  const varOrd = new Map(vars.map((v) => [v.label, v.ordinal]));
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
      if (key(v.ordinal) !== k || v.label === keep) continue;
      const inv = fs.filter((f) => f.dims.includes(v.label));
      if (inv.length === 0) continue;
      const joined = addFactors(inv);
      record?.push({ label: v.label, factor: joined });
      const msg = reduceLabel(joined, v.label, how);
      fs = [...fs.filter((f) => !f.dims.includes(v.label)), msg];
    }
    if (keep !== undefined && keepOrd !== undefined && key(keepOrd) === k) {
      return keptFactor(fs, keep, byOrd, done);
    }
    if (ord.size === 0) {
      for (const f of fs) {
        const stray = f.dims.find((d) => !d.startsWith('p:') && free?.has(d) !== true);
        if (stray !== undefined) {
          throw new ArgumentError('model', `enumerated variable ${stray} could not be summed out`);
        }
        total = tf.add(total, tf.sum(weigh === undefined ? f.t : weigh(ord, f, ord).t));
      }
      continue;
    }
    for (let f of fs) {
      // parent (Pyro's `_contract_component`): the union of the plates of the variables the
      // factor still holds; the plates of ord outside it are product-reduced here
      const parent = new Set<string>();
      for (const d of f.dims) for (const p of varOrd.get(d) ?? []) parent.add(p);
      if ([...parent].some((p) => !ord.has(p))) {
        throw new ArgumentError('model', 'plates nest inconsistently around enumerated sites');
      }
      if (parent.size === ord.size) throw notATree(ord, f, varOrd);
      const drop = [...ord].filter((p) => !parent.has(p));
      if (weigh !== undefined) f = weigh(ord, f, parent);
      const up = at(parent);
      if (done.has(key(parent))) {
        throw new ArgumentError('model', 'plates nest inconsistently around enumerated sites');
      }
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

/**
 * Pyro's `_check_tree_structure` error: factor `f` of ordinal `ord` still holds variables of
 * plates that together make up `ord`, none containing the others, so no plate of `ord` can be
 * reduced before the variables are eliminated (a product over a plate would mix them).
 */
function notATree(
  ord: ReadonlySet<string>,
  f: LabeledFactor,
  varOrd: ReadonlyMap<string, ReadonlySet<string>>,
): ArgumentError {
  const held = f.dims
    .filter((d) => varOrd.has(d))
    .map((d) => {
      const ps = [...(varOrd.get(d) ?? [])];
      return `'${d.replace(/^e:/, '')}' (plate${ps.length === 1 ? '' : 's'} ${ps.join(', ')})`;
    });
  return new ArgumentError(
    'model',
    `expected tree-structured plate nesting, but found dependencies on independent plates ` +
      `[${[...ord].join(', ')}]: a factor in those plates couples the enumerated sites ` +
      `${held.join(', ')}, whose plates do not nest one inside another (Pyro's message). Try ` +
      'converting one of the vectorized plates to a sequential plate (a loop over its members, ' +
      'each site named by member; beware exponential cost in the size of the sequence)',
  );
}

/** The sum of the factors holding `keep` at its ordinal; none may be waiting elsewhere. */
function keptFactor(
  fs: LabeledFactor[],
  keep: string,
  byOrd: Map<string, { ord: Set<string>; fs: LabeledFactor[] }>,
  done: Set<string>,
): LabeledFactor {
  for (const [k, e] of byOrd) {
    if (!done.has(k) && e.fs.some((f) => f.dims.includes(keep))) {
      throw new ArgumentError(
        'model',
        `enumerated variable ${keep}: a factor holding it lies in plates [${[...e.ord].join(', ')}] ` +
          'that do not contain its own (the plates do not nest as a tree around it)',
      );
    }
  }
  const kept = addFactors(fs.filter((f) => f.dims.includes(keep)));
  const stray = kept.dims.find((d) => d !== keep && !d.startsWith('p:'));
  if (stray !== undefined) {
    throw new ArgumentError(
      'model',
      `enumerated variable ${keep} is coupled to ${stray}, which is neither fixed nor summed out ` +
        'before it (its plates do not nest inside those of ' +
        `${keep.replace(/^e:/, '')})`,
    );
  }
  return kept;
}
