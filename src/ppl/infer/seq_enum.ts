/**
 * Sequential enumeration of guide sites in `TraceEnumELBO` (Pyro's `TraceEnum_ELBO` with guide
 * sites marked `{infer: {enumerate: 'sequential'}}`, `pyro.infer.enum.iter_discrete_traces` and
 * the `Dice` weights of `pyro.infer.util`).
 *
 * The guide runs once per combination of values of its sequential sites (`queue` with a LIFO
 * queue: `prod_s K_s` complete guide traces, each site holding one support value broadcast over
 * its plates, Pyro's "diagonal" runs); the model is replayed on each and its own parallel
 * enumerated sites are summed out in each run. Every cost term `c` of a run (a model or guide
 * log-density, or a term of the model's contraction, at the ordinal `O_c` of its plates) is
 * weighted, per member of its plates, by
 *
 * $$w_c = \prod_{s:\ O_s \subseteq O_c} q_s(v_s) \prod_{s:\ O_s \not\subseteq O_c} \frac{1}{K_s},$$
 *
 * `q_s(v_s)` the guide's probability of the value `v_s` site `s` holds in this run (per member of
 * its plates, unscaled, unmasked), `K_s` its number of values. Summed over the runs,
 *
 * $$\mathcal L = \sum_{\text{runs}} \sum_c \sum_{\text{members}} w_c\, c
 *   = \mathbb E_{q}\Big[\log p(x, z) - \log q(z)\Big],$$
 *
 * exact in the sequential sites: a term inside the plates of `s` meets, member by member, every
 * value of that member's `s` once with its probability; a term outside them does not depend on
 * `s` (Pyro's plate rule) and is counted `K_s` times, hence `1/K_s`. The gradient in the guide's
 * parameters flows through the weights `q_s` (no score-function term for these sites).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import type { Message } from '../runtime.js';
import type { Trace } from '../trace.js';
import type { LabeledFactor } from './contract.js';

/** One sequentially enumerated site of a guide run and its weight. */
export interface SequentialWeight {
  /** The site's name. */
  name: string;
  /** The plates of the site (its ordinal). */
  plates: ReadonlySet<string>;
  /** `q_s(v_s)` over the site's batch shape (its plate dims, right-aligned). */
  q: tf.Tensor;
  /**
   * `q_s(v_s)` with its axes labelled by plate (`p:name`), size-1 dims dropped; undefined when it
   * varies along a dim of a parallel-enumerated guide site.
   */
  labeled: LabeledFactor | undefined;
  /** `K_s`, the number of values the site takes over the runs. */
  total: number;
}

/** Whether a guide site was enumerated sequentially in this run (`iterDiscreteExtend` marks it). */
export function isSequentiallyEnumerated(site: Message): boolean {
  return site.type === 'sample' && !site.isObserved && typeof site.infer._enumTotal === 'number';
}

/**
 * The weights `q_s(v_s)` of the sequentially enumerated sites of one guide run (untidied).
 *
 * @param guideTrace a guide trace made by the sequential runs (see the module docs).
 * @param maxPlateNesting the plate dims of model and guide.
 * @param who the caller, named in errors.
 * @throws ArgumentError naming the site when a batch dim of its distribution inside the plate
 *   dims is declared by no plate of the site: one run gives every element of the batch the same
 *   value, which covers all combinations only across the members of a plate.
 */
export function sequentialWeights(
  guideTrace: Trace,
  maxPlateNesting: number,
  who: string,
): SequentialWeight[] {
  const out: SequentialWeight[] = [];
  for (const s of guideTrace.sampleSites()) {
    if (!isSequentiallyEnumerated(s) || s.fn === null || s.value === null) continue;
    const batch = s.fn.batchShape;
    const dims: string[] = [];
    const keep: number[] = [];
    let enumerated = false;
    for (let i = 0; i < batch.length; i++) {
      if (batch[i] === 1) continue;
      const d = i - batch.length;
      const f = s.cond.find((c) => c.dim === d);
      if (f === undefined) {
        // a dim of a parallel-enumerated guide site the site depends on
        const enumDims = s.infer._dimLabels as ReadonlyMap<number, string> | undefined;
        if (-d > maxPlateNesting && enumDims?.has(d) === true) {
          enumerated = true;
          continue;
        }
        throw new ArgumentError(
          s.name,
          `${who}: guide site '${s.name}' is enumerated sequentially, but its batch shape ` +
            `[${batch.join(',')}] has a dim ${d} of size ${batch[i]} that no plate declares: ` +
            'each sequential run gives every element of the batch the same value, which covers ' +
            'all combinations only across the members of a plate (enclose the site in a plate, ' +
            "make the dim an event dim with toEvent, or use enumerate: 'parallel')",
        );
      }
      dims.push(`p:${f.name}`);
      keep.push(i);
    }
    const q = tf.exp(s.fn.logProb(s.value));
    // (with dims of parallel-enumerated guide sites the model enumerates nothing: no labels)
    const labeled: LabeledFactor | undefined = enumerated
      ? undefined
      : keep.length === q.rank
        ? { dims, t: q }
        : {
            dims,
            t: tf.reshape(
              q,
              keep.map((i) => q.shape[i] as number),
            ),
          };
    out.push({
      name: s.name,
      plates: new Set(s.cond.map((c) => c.name)),
      q,
      labeled,
      total: s.infer._enumTotal as number,
    });
  }
  return out;
}

function isSubset(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/**
 * `w_c * t` for a log-density `t` of a site in the plates `ordinal`, over its batch shape
 * (right-aligned with the weights'; untidied). See the module docs for `w_c`.
 */
export function weighTerm(
  t: tf.Tensor,
  ordinal: ReadonlySet<string>,
  weights: readonly SequentialWeight[],
): tf.Tensor {
  let out = t;
  let constant = 1;
  for (const w of weights) {
    if (isSubset(w.plates, ordinal)) out = tf.mul(out, w.q);
    else constant /= w.total;
  }
  return constant === 1 ? out : tf.mul(out, constant);
}

/**
 * `w_c * f` for a term `f` of the model's contraction (axes labelled by plate) at the ordinal
 * `ordinal` (untidied).
 *
 * @throws ArgumentError (`guide`) when a weight varies along a plate the term does not hold.
 */
export function weighLabeled(
  f: LabeledFactor,
  ordinal: ReadonlySet<string>,
  weights: readonly SequentialWeight[],
): LabeledFactor {
  let t = f.t;
  let constant = 1;
  for (const w of weights) {
    if (!isSubset(w.plates, ordinal)) {
      constant /= w.total;
      continue;
    }
    const lw = w.labeled;
    const extra = lw === undefined ? 'enumerated' : lw.dims.find((d) => !f.dims.includes(d));
    if (lw === undefined || extra !== undefined) {
      throw new ArgumentError(
        'guide',
        `sequentially enumerated guide site '${w.name}' varies along ` +
          (lw === undefined
            ? 'a dim of a parallel-enumerated guide site while the model enumerates sites'
            : `plate '${extra?.slice(2)}', along which a term of the model in the same plates ` +
              'is constant'),
      );
    }
    const order = f.dims.filter((d) => lw.dims.includes(d));
    const perm = order.map((d) => lw.dims.indexOf(d));
    const moved = perm.every((p, i) => p === i) ? lw.t : tf.transpose(lw.t, perm);
    const shape = f.dims.map((d) => {
      const i = lw.dims.indexOf(d);
      return i < 0 ? 1 : (lw.t.shape[i] as number);
    });
    t = tf.mul(t, tf.reshape(moved, shape));
  }
  return { dims: f.dims, t: constant === 1 ? t : tf.mul(t, constant) };
}

/**
 * The `weigh` of `contractFactors` for one sequential run: a term that holds no enumerated
 * variable is weighted ({@link weighLabeled}); a factor that still holds variables of outer plates
 * while its own plates are summed (a product over the members, inside a log-sum over those
 * variables) must not lie in the plates of a sequential site that the outer ordinal lacks:
 * `E_q[log sum_z prod_i f_i(z, s_i)]` couples the members' values, which one run per value (the
 * same value for every member) does not cover.
 *
 * @throws ArgumentError naming the sequential site in that case.
 */
export function weighContracted(
  f: LabeledFactor,
  ordinal: ReadonlySet<string>,
  parent: ReadonlySet<string>,
  weights: readonly SequentialWeight[],
): LabeledFactor {
  if (f.dims.every((d) => d.startsWith('p:'))) return weighLabeled(f, ordinal, weights);
  for (const w of weights) {
    if (!isSubset(w.plates, ordinal) || isSubset(w.plates, parent)) continue;
    const outer = f.dims.filter((d) => !d.startsWith('p:')).map((d) => `'${d.replace(/^e:/, '')}'`);
    throw new ArgumentError(
      w.name,
      `TraceEnumELBO: guide site '${w.name}' is enumerated sequentially inside plate(s) ` +
        `[${[...w.plates].join(', ')}], while model terms in those plates are summed over the ` +
        `model's enumerated site(s) ${outer.join(', ')} outside them: the sum couples the ` +
        "members' values, which sequential runs (one value for every member at once) do not " +
        "cover. Enumerate it in the model instead (enumerate: 'parallel', left out of the " +
        'guide), or keep the enumerated model sites inside its plates',
    );
  }
  return f;
}
