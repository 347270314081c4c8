/**
 * MOPED priors (Krishnan, Subedar & Tickoo 2020, "Specifying Weight Priors in Bayesian Deep
 * Neural Networks with Empirical Bayes"; bayesian-torch's `MOPED_layer` sets the prior means to
 * the DNN weights):
 *
 * $$p(w_i) = \mathcal N(w_i;\ w^{\text{DNN}}_i,\ \sigma_p^2),\qquad
 * \mathrm{KL}(q\,\|\,p) = \sum_i \log\frac{\sigma_p}{\sigma_i}
 *   + \frac{\sigma_i^2 + (\mu_i - w^{\text{DNN}}_i)^2}{2\sigma_p^2} - \frac12 .$$
 *
 * The capability lives in `BayesianLayer` (`centredPrior: true`); the `Moped*` classes are made
 * for every estimator by the estimator registry (`layers/moped_classes.ts`) and re-exported by
 * this namespace; here is the map from each Bayesian class name to its MOPED twin.
 */
import { BAYESIAN_CLASSES, bayesianClassName } from '../layers/bayesian_classes.js';

/** MOPED class name of each Bayesian class name (`DenseReparam` -> `MopedDenseReparam`, ...). */
export const MOPED_CLASS: Readonly<Record<string, string>> = Object.fromEntries(
  BAYESIAN_CLASSES.filter((c) => !c.centred).map((c) => [
    c.className,
    bayesianClassName(c.kind, c.estimator, true),
  ]),
);
