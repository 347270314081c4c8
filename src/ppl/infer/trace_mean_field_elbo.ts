/**
 * Pyro's `TraceMeanField_ELBO`: the particle ELBO with analytic `KL(q || p)` per latent site where
 * the pair has a registered closed form, the single-sample `log q(z) - log p(z)` otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { lookupKL } from '../../distributions/kl.js';
import type { Message } from '../runtime.js';
import { applySiteScaleTensor, siteLogProbSum, siteMask, type Trace } from '../trace.js';
import { NotRegisteredError } from '../../utils/errors.js';
import { ParticleELBO } from './elbo.js';
import { guideFactorSites, isScoredSite } from './guide_terms.js';
import { stopGradient } from '../../utils/tensor.js';

function klTerm(q: Message, p: Message): tf.Tensor {
  return tf.tidy(() => {
    const qf = q.fn;
    const pf = p.fn;
    if (qf === null || pf === null) return tf.scalar(0);
    const fn = lookupKL(qf, pf);
    let kl: tf.Tensor | undefined;
    if (fn !== undefined) {
      try {
        kl = fn(qf, pf);
      } catch (e) {
        // a registered wrapper pair (Expanded, Independent, Transformed) whose inner pair has
        // no analytic form: estimate it as Pyro does (its kl_divergence raises NotImplementedError)
        if (!(e instanceof NotRegisteredError)) throw e;
      }
    }
    // the single-sample Monte Carlo estimate log q(z) - log p(z) at the guide's draw, each side
    // summed with its own mask and scale (Pyro's log_prob_sum of each site, TraceELBO's terms):
    // an autoguide's q scores a plate's whole value as one event (a scalar), which subtracted
    // elementwise from p's per-element log-densities would count log q once per element
    // (a guide site without rsample enters with its value only: its gradient is the score term's,
    // as Pyro's entropy term 0)
    if (kl === undefined) return tf.sub(guideSiteLogProbSum(q), siteLogProbSum(p));
    if (p.mask === false) return tf.scalar(0);
    if (p.mask instanceof tf.Tensor) {
      kl = tf.where(siteMask(p, kl.shape), kl, tf.zerosLike(kl));
    }
    kl = applySiteScaleTensor(p, kl);
    const s = tf.sum(kl);
    return p.scale === 1 ? s : tf.mul(s, p.scale);
  });
}

/**
 * `s log q(z)` of guide site `q`, summed; detached when the site gets a score-function term
 * (no `rsample`): Pyro's `entropy_term` of such a site is 0, so the mean-zero `-\nabla\log q(z)`
 * is not in the surrogate's gradient.
 */
function guideSiteLogProbSum(q: Message): tf.Tensor {
  const l = siteLogProbSum(q);
  return isScoredSite(q) ? stopGradient(l) : l;
}

/**
 * The ELBO with analytic KL terms (Pyro's `TraceMeanField_ELBO`): for each latent site of both
 * the model and the guide, `E_q[log p - log q]` is replaced by `-KL(q || p)` when the pair has a
 * registered analytic KL, and by the single-sample estimate `log q(z) - log p(z)` at the guide's
 * draw otherwise (each side summed over its site with its own scale and mask, as `TraceELBO`) (also when a registered wrapper pair, e.g. two `Expanded` made by plates or
 * vectorized particles, wraps a pair without one, as Pyro falls back on `NotImplementedError`):
 *
 * $$\mathcal L = \mathbb E_q\Big[\sum_{\text{obs}} s\log p(x\mid z)\Big] - \sum_{\text{latent}} s\,\mathrm{KL}(q_z\,\|\,p_z)$$
 *
 * Valid when the guide is mean-field and each prior depends on no other latent (then the KL is
 * exact; otherwise it is the usual unbiased estimate conditioned on the sampled parents).
 *
 * A guide site without `rsample` (Pyro's `TraceMeanField_ELBO` refuses it) gets the score-function
 * term `\nabla\log q(z)\,\mathrm{sg}(\mathcal L_p)` weighted by the particle's whole estimate, and
 * no `-\nabla\log q(z)` of its own where its term is the Monte Carlo `log q - log p` (Pyro's
 * entropy term 0): an unbiased gradient either way (an analytic KL keeps its exact gradient).
 */
export class TraceMeanFieldELBO extends ParticleELBO {
  protected particleElbo(guideTrace: Trace, modelTrace: Trace): tf.Tensor {
    let elbo: tf.Tensor = tf.scalar(0);
    for (const site of modelTrace.sampleSites()) {
      const g = guideTrace.get(site.name);
      if (!site.isObserved && g !== undefined && g.type === 'sample' && !g.isObserved) {
        elbo = tf.sub(elbo, klTerm(g, site));
      } else {
        elbo = tf.add(elbo, siteLogProbSum(site));
      }
    }
    for (const g of guideTrace.latentSites()) {
      if (!modelTrace.has(g.name)) elbo = tf.sub(elbo, guideSiteLogProbSum(g));
    }
    // the guide's auxiliary factor sites (Pyro: their entropy term, fully reparameterized)
    for (const f of guideFactorSites(guideTrace, 'TraceMeanFieldELBO', true)) {
      if (!modelTrace.has(f.name)) elbo = tf.sub(elbo, siteLogProbSum(f));
    }
    return elbo;
  }
}
