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
}

/**
 * The log-density tensor of a site with its mask and non-plate scale applied. A site enumerated
 * by `S` draws (`numSamples`, Pyro's sampled enumeration) enters as Pyro's DiCE factor
 * `log p - sg(log p) - log S`: each draw weighs `1/S`, its gradient the score function's.
 */
function siteLocalLogProb(site: Message): tf.Tensor {
  let plateScale = 1;
  for (const f of site.cond) plateScale *= f.size / f.subsampleSize;
  let lp = siteLogProb(site, site.scale / plateScale);
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
  for (const s of tr.sampleSites()) {
    if (!include(s)) continue;
    const lp = siteLocalLogProb(s);
    const dims: string[] = [];
    const keep: number[] = [];
    let enumerated = false;
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
  }
  return { vars, factors, plates, rest, restSites };
}
