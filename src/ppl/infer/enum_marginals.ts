/**
 * The posterior marginals of enumerated sites (Pyro's `TraceEnum_ELBO.compute_marginals`), read
 * off the variable-elimination contraction by differentiation: with a zero offset `δ_v` added to
 * the log-factor of each enumerated variable `v` (over its values and the members `i` of its
 * plates),
 *
 * $$\frac{\partial}{\partial \delta_{v,i}(k)} \log \sum_{z} \prod_f e^{f(z) + \sum_v \delta_{v}(z_v)}
 *   \Big|_{\delta = 0} = p(z_{v,i} = k \mid x),$$
 *
 * exact for every factor graph `contractFactors` contracts (chains under `markov`, plates nested
 * as a tree, global variables coupling plate members), all marginals in one backward pass.
 */
import * as tf from '@tensorflow/tfjs';
import { Bernoulli } from '../../distributions/bernoulli.js';
import { Categorical } from '../../distributions/categorical.js';
import type { Distribution } from '../../distributions/distribution.js';
import { OneHotCategorical } from '../../distributions/one_hot_categorical.js';
import { enumerateSupportTable } from '../handlers/enum_support.js';
import type { Message } from '../runtime.js';
import type { Trace } from '../trace.js';
import { contractFactors, type OrdinalFactor } from './contract.js';
import type { EnumFactorGraph } from './enum_factors.js';

/** The marginal log-probabilities of one enumerated site, `[...batch, K]`. */
export interface SiteMarginal {
  /** The site's name. */
  name: string;
  /** The kind of the site's support (`boolean`, `oneHot`, `integerInterval`, ...). */
  supportKind: string;
  /** Normalized log-probabilities over the `K` support values, last dim. */
  logits: tf.Tensor;
}

/**
 * The marginal log-probabilities of every enumerated variable of `g` (untidied: call inside a
 * `tf.tidy`), each laid out as Pyro's: the site's plate sizes at their dims (1 elsewhere, leading
 * 1s dropped), the `K` values on the right.
 *
 * @param tr the enumerated model trace `g` was built from.
 * @param g its factor graph.
 */
export function enumMarginals(tr: Trace, g: EnumFactorGraph): SiteMarginal[] {
  const layouts = g.vars.map((v) => {
    const site = tr.get(v.name) as Message;
    const k = enumerateSupportTable(site.fn as Distribution, site.name).shape[0] as number;
    const plates = [...site.cond].sort((a, b) => a.dim - b.dim);
    return { v, site, k, plates };
  });
  if (layouts.length === 0) return [];
  const deltas = layouts.map(({ k, plates }) =>
    tf.zeros([k, ...plates.map((f) => f.subsampleSize)]),
  );
  const logZ = (...ds: tf.Tensor[]): tf.Scalar => {
    const extra: OrdinalFactor[] = layouts.map(({ v, plates }, i) => ({
      ordinal: new Set(v.ordinal),
      factor: { dims: [v.label, ...plates.map((f) => `p:${f.name}`)], t: ds[i] as tf.Tensor },
    }));
    return contractFactors([...g.factors, ...extra], g.vars, g.plates) as tf.Scalar;
  };
  const grads = tf.grads(logZ)(deltas);
  return layouts.map(({ site, k, plates }, i) => {
    const gr = grads[i] as tf.Tensor;
    // a subsampled plate scales its factors: normalize over the values
    const probs = tf.div(gr, tf.sum(gr, 0, true));
    const perm = [...plates.map((_, j) => j + 1), 0];
    const moved = tf.transpose(probs, perm);
    const rank = Math.max(0, ...plates.map((f) => -f.dim));
    const batch = new Array<number>(rank).fill(1);
    for (const f of plates) batch[rank + f.dim] = f.subsampleSize;
    while (batch.length > 0 && batch[0] === 1) batch.shift();
    return {
      name: site.name,
      supportKind: (site.fn as Distribution).support.kind,
      logits: tf.log(tf.reshape(moved, [...batch, k])),
    };
  });
}

/**
 * The distribution of a marginal, as Pyro's `_make_dist`: a `Bernoulli` (logits
 * `log p_1 - log p_0`) for a boolean site, a `OneHotCategorical` for one-hot vectors, else a
 * `Categorical` over the positions `0..K-1` of the site's support values (`lower..upper`).
 */
export function marginalDistribution(m: SiteMarginal): Distribution {
  if (m.supportKind === 'oneHot') return new OneHotCategorical({ logits: m.logits });
  if (m.supportKind === 'boolean') {
    const l = tf.tidy(() => {
      const [l0, l1] = tf.split(m.logits, 2, -1);
      return tf.squeeze(tf.sub(l1 as tf.Tensor, l0 as tf.Tensor), [-1]);
    });
    const d = new Bernoulli({ logits: l });
    l.dispose();
    return d;
  }
  return new Categorical({ logits: m.logits });
}
