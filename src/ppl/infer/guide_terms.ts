/**
 * The guide's terms of the ELBO estimators: `log q` of one guide run, summed
 * (`sum_{latent} s log q(z) + sum_{factor} s w`) or site by site, its `factor` sites (checked for
 * `hasRsample`, Pyro's rule for guides), and the score-function (REINFORCE) surrogate
 * `sum_i log q(z_i) sg(L) - sg(.)` of the guide sites that cannot be reparameterized.
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
 * `log q` of one guide run (Pyro's sum over the guide's sample sites): its latent sites plus its
 * `factor` sites; a factor with `hasRsample: false` enters with its value only (detached), its
 * gradient coming from the score-function term as in Pyro.
 */
export function guideLogProbSum(guideTrace: Trace, elbo: string, reparamOnly = false): tf.Tensor {
  let lq = guideTrace.logProbSum((s) => !s.isObserved);
  for (const f of guideFactorSites(guideTrace, elbo, reparamOnly)) {
    const l = siteLogProbSum(f);
    lq = tf.add(lq, (unitOf(f.fn) as Unit).hasRsample ? l : stopGradient(l));
  }
  return lq;
}

/**
 * Score-function surrogate for guide sites that cannot be reparameterized:
 * `sum_i log q(z_i) * sg(elbo)`, whose value is removed with `x - sg(x)` so that only its gradient
 * `E[grad log q * elbo]` (REINFORCE) is added.
 */
export function scoreFunctionTerm(guideTrace: Trace, elbo: tf.Tensor): tf.Tensor {
  const nonReparam = guideTrace.sampleSites().filter(
    (s) =>
      (!s.isObserved || isFactorSite(s)) &&
      s.fn !== null &&
      !s.fn.hasRsample &&
      // a guide site enumerated by TraceEnumELBO is summed out exactly: no score term
      s.infer._enumerated !== true &&
      // nor one enumerated sequentially (its weights q(v) carry the gradient, seq_enum.ts)
      typeof s.infer._enumTotal !== 'number',
  );
  if (nonReparam.length === 0) return tf.scalar(0);
  let lq: tf.Tensor = tf.scalar(0);
  for (const s of nonReparam) lq = tf.add(lq, siteLogProbSum(s));
  const surrogate = tf.mul(lq, stopGradient(elbo));
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
