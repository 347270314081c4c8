/**
 * The guide's terms of the ELBO estimators: `log q` of one guide run, summed
 * (`sum_{latent} s log q(z) + sum_{factor} s w`) or site by site, its `factor` sites (checked for
 * `hasRsample`, Pyro's rule for guides), and the score-function (REINFORCE) surrogate
 * `sum_i sum(log q(z_i) sg(cost_i)) - sg(.)` of the guide sites that cannot be reparameterized,
 * with `cost_i` the whole estimate or, as Pyro's `Trace_ELBO`, its terms Rao-Blackwellized by
 * plates.
 */
import * as tf from '@tensorflow/tfjs';
import type { Message } from '../runtime.js';
import { siteLogProb, siteLogProbSum, type Trace } from '../trace.js';
import { ArgumentError } from '../../utils/errors.js';
import { stopGradient } from '../../utils/tensor.js';
import { Unit } from '../unit.js';
import type { Distribution } from '../../distributions/distribution.js';
import { ExpandedDistribution } from '../../distributions/expanded.js';

/** The {@link Unit} inside a site's distribution (a plate or particle plate expands it). */
function unitOf(fn: Distribution | null): Unit | undefined {
  let d = fn;
  while (d instanceof ExpandedDistribution) d = d.base;
  return d instanceof Unit ? d : undefined;
}

/** Whether `s` is a `factor` site (an observed {@link Unit} site), e.g. of a guide. */
export function isFactorSite(s: Message): boolean {
  return s.type === 'sample' && s.isObserved && unitOf(s.fn) !== undefined;
}

/**
 * The guide's factor sites, checked: each must say `hasRsample` (Pyro: "must be specified for use
 * in guides"); `reparamOnly` (an ELBO without score-function terms for them) also refuses `false`.
 */
export function guideFactorSites(guideTrace: Trace, elbo: string, reparamOnly = false): Message[] {
  const out = guideTrace.sampleSites().filter(isFactorSite);
  for (const s of out) {
    const r = (unitOf(s.fn) as Unit).rsampled;
    if (r === undefined || (reparamOnly && !r)) {
      throw new ArgumentError(
        s.name,
        r === undefined
          ? `${elbo}: factor '${s.name}' in the guide needs hasRsample (true when its log-weight ` +
              'comes from reparameterized draws, false otherwise), as in Pyro'
          : `${elbo}: factor '${s.name}' in the guide has hasRsample false; this ELBO needs ` +
              'reparameterized guide factors (use TraceELBO)',
      );
    }
  }
  return out;
}

/**
 * Whether guide site `s` gets a score-function term: a latent site (or a `factor` site) whose
 * distribution has no `rsample`, neither enumerated in parallel (`TraceEnumELBO` sums it out
 * exactly) nor sequentially (its weights `q(v)` carry the gradient, `seq_enum.ts`).
 */
export function isScoredSite(s: Message): boolean {
  return (
    (!s.isObserved || isFactorSite(s)) &&
    s.fn !== null &&
    !s.fn.hasRsample &&
    s.infer._enumerated !== true &&
    typeof s.infer._enumTotal !== 'number'
  );
}

/**
 * `log q` of one guide run (Pyro's sum over the guide's sample sites): its latent sites plus its
 * `factor` sites; a factor with `hasRsample: false` enters with its value only (detached), its
 * gradient coming from the score-function term as in Pyro.
 *
 * With `detachScored` every site that gets a score-function term ({@link isScoredSite}) enters
 * with its value only, as Pyro's `Trace_ELBO` (a non-reparameterized site's `score_parts` have
 * `entropy_term = 0`): the surrogate keeps `-log q` only for reparameterized sites, so the
 * mean-zero `-\nabla_\phi \log q_\phi(z)` of a site drawn without `rsample` is not in its
 * gradient (the value is unchanged).
 */
export function guideLogProbSum(
  guideTrace: Trace,
  elbo: string,
  reparamOnly = false,
  detachScored = false,
): tf.Tensor {
  let lq = detachScored
    ? tf.add(
        guideTrace.logProbSum((s) => !s.isObserved && !isScoredSite(s)),
        stopGradient(guideTrace.logProbSum((s) => !s.isObserved && isScoredSite(s))),
      )
    : guideTrace.logProbSum((s) => !s.isObserved);
  for (const f of guideFactorSites(guideTrace, elbo, reparamOnly)) {
    const l = siteLogProbSum(f);
    lq = tf.add(lq, (unitOf(f.fn) as Unit).hasRsample ? l : stopGradient(l));
  }
  return lq;
}

/** One signed term of an ELBO estimate: a site and its (masked, scaled) per-element value. */
export interface CostTerm {
  /**
   * The site the term belongs to (its `cond` gives the plates of the term's dims; a contracted
   * term of `TraceEnumELBO` gives its ordinal's plates only).
   */
  readonly site: Pick<Message, 'cond'>;
  /** The term, e.g. `s log p(x)` of a model site or `-s log q(z)` of a guide site. */
  readonly value: tf.Tensor;
}

/**
 * Sum `term` (of site `t`) over every axis except the plate dims `t` shares with site `s` (by
 * plate name), keeping dims, then drop leading axes beyond `targetRank` (all of size 1 then):
 * Pyro's `MultiFrameTensor.sum_to(s.cond_indep_stack)` for one term.
 */
export function plateReduce(
  term: tf.Tensor,
  t: Pick<Message, 'cond'>,
  s: Message,
  targetRank: number,
): tf.Tensor {
  const shared = new Set(
    s.cond.filter((f) => t.cond.some((g) => g.name === f.name)).map((f) => f.dim),
  );
  const axes: number[] = [];
  for (let i = 0; i < term.rank; i++) if (!shared.has(i - term.rank)) axes.push(i);
  let r = axes.length > 0 ? tf.sum(term, axes, true) : term;
  if (r.rank > targetRank) r = tf.reshape(r, r.shape.slice(r.rank - targetRank));
  return r;
}

/**
 * The terms of `TraceELBO`'s estimate `L = sum_model s log p - sum_guide s log q` one by one:
 * each model sample site's `s log p` (observed, latent, factor) and each guide term's `-s log q`
 * ({@link guideLogProbTerms}); they add up to the estimate. Untidied.
 */
export function elboCostTerms(modelTrace: Trace, guideTrace: Trace, elbo: string): CostTerm[] {
  const out: CostTerm[] = modelTrace
    .sampleSites()
    .map((site) => ({ site, value: siteLogProb(site) }));
  for (const { site, logProb } of guideLogProbTerms(guideTrace, elbo)) {
    out.push({ site, value: tf.neg(logProb) });
  }
  return out;
}

/**
 * The score function's `log q(z)` of a guide site: its log-density, neither scaled nor masked
 * (Pyro's `ScoreParts.scale_and_mask`: "the `score_function` term should not be scaled or
 * masked"): the cost it multiplies already carries the scale (`poutine.scale`, a plate's
 * `size / subsampleSize`) and the mask, so scaling it too would count the scale twice (`s^2`
 * instead of `s`). Untidied.
 */
export function scoreLogProb(site: Message): tf.Tensor {
  if (site.fn === null || site.value === null) return tf.scalar(0);
  return site.fn.logProb(site.value);
}

/**
 * Score-function surrogate for the guide sites that cannot be reparameterized
 * ({@link isScoredSite}): value 0 (`x - sg(x)`), gradient the REINFORCE estimate
 *
 * $$\nabla_\phi \sum_i \sum_{b} \log q_\phi(z_{i,b})\,\mathrm{sg}(\mathrm{cost}_{i,b})$$
 *
 * over the elements `b` of site `i`'s batch shape, `log q` neither scaled nor masked
 * ({@link scoreLogProb}; the costs carry the scales and masks). `cost` is either the whole estimate (a scalar,
 * the same for every element) or its terms (a function giving {@link CostTerm}s, called only when
 * some site is scored): then, as Pyro's `Trace_ELBO` (`log_r.sum_to(site.cond_indep_stack)`),
 * `cost_{i,b}` keeps of each term only the members of the plates it shares with site `i`
 * (element `b`'s own), summed over its other dims — Rao-Blackwellization by plates, which drops
 * the mean-zero terms of the other members of a plate (and of the other vectorized particles).
 */
export function scoreFunctionTerm(
  guideTrace: Trace,
  cost: tf.Tensor | (() => readonly CostTerm[]),
): tf.Tensor {
  const scored = guideTrace.sampleSites().filter(isScoredSite);
  if (scored.length === 0) return tf.scalar(0);
  let surrogate: tf.Tensor = tf.scalar(0);
  if (cost instanceof tf.Tensor) {
    let lq: tf.Tensor = tf.scalar(0);
    for (const s of scored) lq = tf.add(lq, tf.sum(scoreLogProb(s)));
    surrogate = tf.mul(lq, stopGradient(cost));
  } else {
    const terms = cost();
    for (const s of scored) {
      const lq = scoreLogProb(s);
      let c: tf.Tensor = tf.zeros(lq.shape);
      for (const t of terms) c = tf.add(c, plateReduce(t.value, t.site, s, lq.rank));
      surrogate = tf.add(surrogate, tf.sum(tf.mul(lq, stopGradient(c))));
    }
  }
  return tf.sub(surrogate, stopGradient(surrogate));
}

/**
 * The guide's cost terms one by one (what {@link guideLogProbSum} adds up): each latent site's
 * masked, scaled log-density `s log q` over its batch shape, and each `factor` site's (its value
 * only, detached, when it has `hasRsample: false`). Untidied.
 */
export function guideLogProbTerms(
  guideTrace: Trace,
  elbo: string,
): { site: Message; logProb: tf.Tensor }[] {
  const out = guideTrace.latentSites().map((site) => ({ site, logProb: siteLogProb(site) }));
  for (const f of guideFactorSites(guideTrace, elbo)) {
    const l = siteLogProb(f);
    out.push({ site: f, logProb: (unitOf(f.fn) as Unit).hasRsample ? l : stopGradient(l) });
  }
  return out;
}
