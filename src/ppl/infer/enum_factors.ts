/**
 * The factor graph of a trace run under {@link enumerate} (what `TraceEnumELBO`, the enumerated
 * MCMC potential and `inferDiscrete` contract): every enumerated site is a variable labelled
 * `e:name` in the plates of its site (its ordinal); every scored site whose log-density varies
 * along an enumerated dim is a factor whose axes are labelled with those variables and its
 * plates (`p:name`); the other sites are summed into one scalar `rest`, as `TraceELBO` scores
 * them.
 *
 * A batch dim `d` of a log-density with `-d <= maxPlateNesting` must be declared by a plate of
 * the site; a dim left of the plates must belong to an enumerated site the site sees. Inside
 * `markov` a dim does not name one site for the whole run (a chain reuses its dims): each site
 * records which enumerated site holds each dim at its point of the run (`infer._dimLabels`, Pyro's
 * `_dim_to_id`), and its factor's axes get those labels.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { stopGradient } from '../../utils/tensor.js';
import type { DimLabels } from '../handlers/enum_dims.js';
import type { Message } from '../runtime.js';
import { StackedDistribution } from '../contrib/control_flow/stacked_distribution.js';
import { siteLogProb, siteLogProbSum, type Trace } from '../trace.js';
import type { EnumVar, OrdinalFactor, PlateInfo } from './contract.js';

/** An enumerated variable of a trace: its site's name besides label and ordinal. */
export interface TraceEnumVar extends EnumVar {
  /** The site's name. */
  name: string;
  /** Its batch dim (left of the plates; inside `markov`, shared with sites out of its history). */
  dim: number;
}

/** The factor graph of an enumerated trace (see the module docs). */
export interface EnumFactorGraph {
  /** Enumerated variables in the order of the run (the elimination order). */
  vars: TraceEnumVar[];
  /** Log-density factors that vary along some enumerated dim. */
  factors: OrdinalFactor[];
  /** Every plate label met (`p:name`) and its subsample scale. */
  plates: Map<string, PlateInfo>;
  /** The summed log-density of the sites that vary along no enumerated dim (a scalar). */
  rest: tf.Tensor;
  /** The sites summed into `rest`, in the order of the run. */
  restSites: Message[];
  /**
   * The scale (`poutine.scale`, apart from plate subsampling) that the sites of the factors
   * share: the contraction of `factors` is multiplied by it, outside the sum over the enumerated
   * values, as in Pyro (1 when there are no factors).
   */
  scale: number;
}

/** The scale of a site apart from its plates' subsample scales (`poutine.scale`'s). */
function nonPlateScale(site: Message): number {
  let plateScale = 1;
  for (const f of site.cond) plateScale *= f.size / f.subsampleSize;
  return site.scale / plateScale;
}

/**
 * The log-density tensor of a site with its mask applied, unscaled: as Pyro's `TraceEnum_ELBO`,
 * the mask applies inside the sum over the enumerated values and the (common) scale outside it
 * ({@link EnumFactorGraph.scale}; the plates' subsample scales apply where their plates are
 * summed). A site enumerated by `S` draws (`numSamples`, Pyro's sampled enumeration) enters as
 * Pyro's DiCE factor `log p - sg(log p) - log S`: each draw weighs `1/S`, its gradient the score
 * function's.
 */
function siteLocalLogProb(site: Message): tf.Tensor {
  let lp = siteLogProb(site, 1);
  // a scanned site: one factor over all its steps (the time dim is no plate, no enumeration)
  if (site.fn instanceof StackedDistribution) lp = site.fn.sumOverTime(lp);
  const sampled = site.infer._enumSampled;
  if (typeof sampled !== 'number') return lp;
  return tf.sub(tf.sub(lp, stopGradient(lp)), Math.log(sampled));
}

/**
 * Split the scored sites of an enumerated trace into factors and a constant part (untidied).
 *
 * @param tr a trace of the model run under {@link enumerate} at `-(maxPlateNesting + 1)`.
 * @param maxPlateNesting the model's plate dims.
 * @param who the caller, named in errors (e.g. `TraceEnumELBO`).
 * @param include which sample sites are scored (default: all).
 * @param free labels of dims left of the plates that are not variables of the graph (the dims
 *   of the guide's parallel-enumerated sites the model replays): a site holding them is a factor
 *   with those labels, and no variable is made for them; default none.
 */
export function enumFactorGraph(
  tr: Trace,
  maxPlateNesting: number,
  who: string,
  include: (site: Message) => boolean = () => true,
  free?: ReadonlyMap<number, string>,
): EnumFactorGraph {
  const nest = maxPlateNesting;
  const vars: TraceEnumVar[] = [];
  const enumDims = new Map<number, string>();
  for (const s of tr.sampleSites()) {
    if (s.infer._enumerated !== true) continue;
    const dim = s.infer._enumDim as number;
    if (free?.has(dim) === true) continue;
    const label = `e:${s.name}`;
    enumDims.set(dim, label);
    vars.push({ name: s.name, label, dim, ordinal: new Set(s.cond.map((f) => f.name)) });
  }
  const plates = new Map<string, PlateInfo>();
  const factors: OrdinalFactor[] = [];
  let rest: tf.Tensor = tf.scalar(0);
  const restSites: Message[] = [];
  // per factor: its site's scale and whether it holds a variable of the graph
  const scales: { site: Message; scale: number; variable: boolean }[] = [];
  for (const s of tr.sampleSites()) {
    if (!include(s)) continue;
    const lp = siteLocalLogProb(s);
    const dims: string[] = [];
    const keep: number[] = [];
    let enumerated = false;
    let variable = false;
    for (let i = 0; i < lp.rank; i++) {
      if (lp.shape[i] === 1) continue;
      const d = i - lp.rank;
      if (-d <= nest) {
        const f = s.cond.find((c) => c.dim === d);
        if (f === undefined) {
          throw new ArgumentError(
            s.name,
            `site '${s.name}': batch dim ${d} of its log-density [${lp.shape.join(',')}] is ` +
              `not declared by a plate (${who} needs every batch dim in a plate)`,
          );
        }
        plates.set(`p:${f.name}`, { name: f.name, scale: f.size / f.subsampleSize });
        dims.push(`p:${f.name}`);
      } else {
        const seen = s.infer._dimLabels as DimLabels | undefined;
        const label = free?.get(d) ?? (seen ?? enumDims).get(d);
        if (label === undefined) {
          throw new ArgumentError(
            s.name,
            `site '${s.name}': log-density [${lp.shape.join(',')}] has a batch dim ${d} left ` +
              `of the plates (max plate nesting ${nest}) that no enumerated site ` +
              (seen === undefined
                ? 'made'
                : 'visible to it holds (inside markov, a site sees the steps of its history ' +
                  'only; outside, only the enumerated sites outside markov)'),
          );
        }
        dims.push(label);
        enumerated = true;
        if (free?.get(d) === undefined) variable = true;
      }
      keep.push(i);
    }
    if (!enumerated) {
      rest = tf.add(rest, siteLogProbSum(s));
      restSites.push(s);
      continue;
    }
    for (const f of s.cond) {
      plates.set(`p:${f.name}`, { name: f.name, scale: f.size / f.subsampleSize });
    }
    const t = tf.reshape(
      lp,
      keep.map((i) => lp.shape[i] as number),
    );
    factors.push({ ordinal: new Set(s.cond.map((f) => f.name)), factor: { dims, t } });
    if (variable && s.scaleTensor !== null && s.scaleTensor !== undefined) {
      throw new ArgumentError(
        s.name,
        `${who}: site '${s.name}' depends on an enumerated site and has a tensor scale ` +
          `(per-element weights, shape [${s.scaleTensor.shape.join(',')}]); as in Pyro, ` +
          'enumeration supports a scalar scale only (a weight cannot be taken out of the sum ' +
          'over the enumerated values element by element): use a number, or mask',
      );
    }
    scales.push({ site: s, scale: nonPlateScale(s), variable });
  }
  const scale = commonScale(scales, who);
  // a factor over guide dims only is a cost of its own (no sum over model values): its own scale
  scales.forEach((e, i) => {
    if (e.variable || e.scale === scale) return;
    const f = factors[i] as OrdinalFactor;
    f.factor = { dims: f.factor.dims, t: tf.mul(f.factor.t, e.scale / scale) };
  });
  return { vars, factors, plates, rest, restSites, scale };
}

/**
 * The one scale of the sites whose factors hold enumerated variables (Pyro's
 * `_get_common_scale`): a sum over the values of an enumerated variable cannot be scaled term by
 * term, so every such site must share it.
 */
function commonScale(
  scales: readonly { site: Message; scale: number; variable: boolean }[],
  who: string,
): number {
  const held = scales.filter((e) => e.variable);
  const first = held[0];
  if (first === undefined) return 1;
  const other = held.find((e) => Math.abs(e.scale - first.scale) > 1e-12 * first.scale);
  if (other !== undefined) {
    throw new ArgumentError(
      other.site.name,
      `${who}: expected all enumerated sample sites and the sites depending on them to share a ` +
        `common scale (Pyro's poutine.scale), but site '${first.site.name}' has scale ` +
        `${first.scale} and site '${other.site.name}' ${other.scale} (apart from plate ` +
        'subsampling): scale the whole enumerated part of the model, or use mask to drop terms',
    );
  }
  return first.scale;
}
