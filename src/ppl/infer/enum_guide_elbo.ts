/**
 * The ELBO terms of a guide that enumerates its own discrete sites in parallel
 * (`AutoDiscreteParallel`, `configEnumerate(guide, 'parallel')`), for `TraceEnumELBO`
 * (`trace_enum_elbo.ts`):
 * each log-density `f` of the model and of the guide is averaged under the guide's
 * probabilities `q_g` of the values it holds,
 *
 * $$\mathcal L = \sum_f \sum_{z_{A_f}} \Big(\prod_{g\in A_f} q_g(z_g)\Big) f(z_{A_f}),$$
 *
 * and, when the model also enumerates its own sites `z`, the single joint pass
 * `L = sum_g q(g) [log sum_z p(x, z, g) - log q(g)]`. @internal
 */
import * as tf from '@tensorflow/tfjs';
import { withTapeOff } from '../../utils/tape.js';
import { broadcastShapes, broadcastTo, stopGradient } from '../../utils/tensor.js';
import type { Message } from '../runtime.js';
import { siteLogProb, type Trace } from '../trace.js';
import type { Distribution } from '../../distributions/distribution.js';
import { isEnumerated } from './check.js';
import { contractFactors, type LabeledFactor } from './contract.js';
import { enumFactorGraph } from './enum_factors.js';
import { guideFactorSites } from './guide_terms.js';
import { weighTerm, type SequentialWeight } from './seq_enum.js';

/** The plates of a site (its ordinal). */
export function ordinalOf(site: Message): Set<string> {
  return new Set(site.cond.map((f) => f.name));
}

/**
 * The ELBO when the guide enumerates its discrete sites `z_g` (each at its own dim `d_g`, with
 * probabilities `q_g(z_g | z_{pa(g)})`, possibly depending on earlier enumerated guide sites):
 * every log-density `f` of the model and of the guide, over the values it holds at those dims, is
 * averaged under the `q_g` of the dims it carries and of the dims those weights carry in turn
 * (the ancestors), a value with `q_g = 0` adding 0 (Pyro's masking of impossible values),
 *
 * $$\mathcal L = \sum_f \sum_{z_{A_f}} \Big(\prod_{g\in A_f} q_g(z_g)\Big) f(z_{A_f}),$$
 *
 * exact in the enumerated sites (their gradient flows through the weights `q_g`, no score term).
 */
export function enumeratedGuideElbo(
  guideEnum: Message[],
  guideTrace: Trace,
  modelTrace: Trace,
  seq: readonly SequentialWeight[],
): tf.Tensor {
  const weights = guideWeights(guideEnum);
  const expect = (site: Message, lp: tf.Tensor): tf.Tensor =>
    // first by the weights of the values of this sequential run (seq_enum.ts), which may
    // themselves carry dims of parallel-enumerated guide sites
    guideExpectation(seq.length === 0 ? lp : weighTerm(lp, ordinalOf(site), seq), weights);
  let elbo: tf.Tensor = tf.scalar(0);
  for (const s of modelTrace.sampleSites()) elbo = tf.add(elbo, expect(s, siteLogProb(s)));
  const guideSites = [
    ...guideTrace.latentSites(),
    ...guideFactorSites(guideTrace, 'TraceEnumELBO'),
  ];
  for (const s of guideSites) elbo = tf.sub(elbo, expect(s, siteLogProb(s)));
  return elbo;
}

/** A parallel-enumerated guide site's dim and probabilities `q_g` of the values it holds. */
interface GuideWeight {
  dim: number;
  q: tf.Tensor;
}

/** The weights `q_g` of the guide's parallel-enumerated sites (untidied). */
function guideWeights(guideEnum: Message[]): GuideWeight[] {
  return guideEnum.map((s) => {
    const lq = (s.fn as Distribution).logProb(s.value as tf.Tensor);
    const sampled = s.infer._enumSampled;
    // S draws (numSamples): each weighs 1/S, Pyro's DiCE factor exp(log q - sg(log q)) / S
    const q =
      typeof sampled === 'number'
        ? tf.div(tf.exp(tf.sub(lq, stopGradient(lq))), sampled)
        : tf.exp(lq);
    return { dim: s.infer._enumDim as number, q };
  });
}

/**
 * `sum_{z_A} (prod_{g in A} q_g(z_g)) f(z_A)` for a term `f` over the dims `A` of the guide's
 * enumerated sites it carries and their ancestors' (untidied); a value with `q_g = 0` adds 0.
 */
function guideExpectation(lp: tf.Tensor, weights: readonly GuideWeight[]): tf.Tensor {
  const carries = (w: tf.Tensor, dim: number): boolean =>
    w.rank >= -dim && (w.shape[w.rank + dim] as number) > 1;
  {
    // weigh by q_g for every dim g the term carries, and again for the dims a weight brings
    // (a guide site depending on an earlier one, q(b | a), carries a's dim: then q(a) too)
    let w = lp;
    const used = new Set<number>();
    for (let grew = true; grew;) {
      grew = false;
      for (const { dim, q } of weights) {
        if (used.has(dim) || !carries(w, dim)) continue;
        used.add(dim);
        grew = true;
        // a value the guide never takes (q = 0) adds 0, also where the term is -inf
        const shape = broadcastShapes({ term: w.shape, weight: q.shape });
        // the mask is a constant to the gradient (Greater has none)
        const taken = withTapeOff(() => tf.broadcastTo(tf.greater(q, 0), shape));
        w = tf.mul(tf.where(taken, broadcastTo(w, shape), tf.zeros(shape)), q);
      }
    }
    return tf.sum(w);
  }
}

/**
 * Whether the guide's parallel-enumerated sites allow one joint pass with a model enumerating
 * its own sites: all outside plates (one value per run of the whole model), none sampled
 * (`numSamples`), and no sequential sites.
 */
export function jointPassFits(guideTrace: Trace): boolean {
  return guideTrace
    .sampleSites()
    .every(
      (s) =>
        typeof s.infer._enumTotal !== 'number' &&
        (!isEnumerated(s) || (s.cond.length === 0 && s.infer._enumSampled === undefined)),
    );
}

/**
 * The ELBO when the guide enumerates sites `g` outside plates in parallel and the model
 * enumerates its own `z`, in one run of each (Pyro's single pass): the model's factors are
 * contracted over `z` with the guide's dims kept as free labels, and each term reaching the root
 * is averaged under the guide,
 *
 * $$\mathcal L = \sum_{g} q(g)\Big[\log \sum_z p(x, z, g) - \log q(g)\Big],$$
 *
 * the same value as one guide run per value of `g` (the rerun this replaces).
 */
export function jointEnumeratedElbo(
  guideEnum: Message[],
  guideTrace: Trace,
  modelTrace: Trace,
  nest: number,
): tf.Tensor {
  const weights = guideWeights(guideEnum);
  const labels = new Map(guideEnum.map((s) => [s.infer._enumDim as number, `g:${s.name}`]));
  const dimOf = new Map([...labels].map(([d, l]) => [l, d]));
  const g = enumFactorGraph(modelTrace, nest, 'TraceEnumELBO', undefined, labels);
  // a root term over guide labels, laid out at the guide's dims, then averaged under the guide
  const weigh = (ord: ReadonlySet<string>, f: LabeledFactor): LabeledFactor => {
    if (ord.size > 0 || f.dims.length === 0) return f;
    const order = [...f.dims].sort((a, b) => (dimOf.get(a) as number) - (dimOf.get(b) as number));
    const perm = order.map((l) => f.dims.indexOf(l));
    const moved = perm.every((p, i) => p === i) ? f.t : tf.transpose(f.t, perm);
    const rank = -(dimOf.get(order[0] as string) as number);
    const shape = new Array<number>(rank).fill(1);
    order.forEach((l, i) => (shape[rank + (dimOf.get(l) as number)] = moved.shape[i] as number));
    return { dims: [], t: guideExpectation(tf.reshape(moved, shape), weights) };
  };
  const free = new Set(labels.values());
  const contracted = contractFactors(g.factors, g.vars, g.plates, 'logsumexp', weigh, free);
  let elbo = tf.add(g.rest, tf.mul(contracted, g.scale));
  for (const s of [...guideTrace.latentSites(), ...guideFactorSites(guideTrace, 'TraceEnumELBO')]) {
    elbo = tf.sub(elbo, guideExpectation(siteLogProb(s), weights));
  }
  return elbo;
}
