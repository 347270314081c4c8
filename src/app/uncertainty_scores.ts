/**
 * The uncertainty scores of `deepprob uncertainty`'s report: evidential mass `u = K / S`, mutual
 * information `H[pbar] - mean_s H[p_s]`, predictive entropy `H[pbar]`, expected entropy
 * `mean_s H[p_s]`, `1 - max_k pbar_k` and Kwon et al.'s epistemic / aleatoric traces
 * (`tr mean_s (p_s - pbar)(p_s - pbar)^T`, `tr mean_s diag(p_s) - p_s p_s^T`); which of them each
 * kind of model yields; the evidence functions on the host in float64.
 */
import { evidenceFunction } from '../toolbox/evidential/evidence.js';

/** One uncertainty score of the report: its key, display name and description. */
export interface ScoreDef {
  key: string;
  name: string;
  description: string;
}

/** The report's uncertainty scores by key. */
export const SCORES: Record<string, ScoreDef> = {
  evidential_u: {
    key: 'evidential_u',
    name: 'uncertainty mass u = K/S',
    description: 'Dirichlet uncertainty mass of the evidential network (Sensoy et al. 2018)',
  },
  mutual_information: {
    key: 'mutual_information',
    name: 'mutual information (epistemic)',
    description: 'H[mean p] - mean H[p_s]: disagreement between Monte Carlo samples (BALD)',
  },
  predictive_entropy: {
    key: 'predictive_entropy',
    name: 'predictive entropy (total)',
    description: 'entropy of the (mean) predictive distribution',
  },
  expected_entropy: {
    key: 'expected_entropy',
    name: 'expected entropy (aleatoric)',
    description: 'mean entropy of the sampled predictive distributions',
  },
  one_minus_max_prob: {
    key: 'one_minus_max_prob',
    name: '1 - max probability',
    description: 'one minus the confidence of the predicted class',
  },
  softmax_epistemic: {
    key: 'softmax_epistemic',
    name: 'epistemic, softmax (Kwon)',
    description:
      'trace of mean_s (p_s - pbar)(p_s - pbar)^T with softmax outputs (BayesianCNN "softmax")',
  },
  softmax_aleatoric: {
    key: 'softmax_aleatoric',
    name: 'aleatoric, softmax (Kwon)',
    description:
      'trace of mean_s diag(p_s) - p_s p_s^T with softmax outputs (BayesianCNN "softmax")',
  },
  normalized_epistemic: {
    key: 'normalized_epistemic',
    name: 'epistemic, softplus-normalized',
    description:
      'Kwon epistemic term on softplus-normalised outputs (BayesianCNN "normalized", Shridhar et al. 2018)',
  },
  normalized_aleatoric: {
    key: 'normalized_aleatoric',
    name: 'aleatoric, softplus-normalized',
    description: 'Kwon aleatoric term on softplus-normalised outputs (BayesianCNN "normalized")',
  },
};

/** Which scores each kind of model yields, primary first. */
export function scoreKeys(mode: 'evidential' | 'sampling' | 'single'): string[] {
  if (mode === 'evidential') return ['evidential_u', 'predictive_entropy', 'one_minus_max_prob'];
  if (mode === 'single') return ['predictive_entropy', 'one_minus_max_prob'];
  return [
    'mutual_information',
    'predictive_entropy',
    'expected_entropy',
    'one_minus_max_prob',
    'softmax_epistemic',
    'softmax_aleatoric',
    'normalized_epistemic',
    'normalized_aleatoric',
  ];
}

/** The evidence functions of `evidential/evidence.ts` in float64 on the host. */
export function hostEvidenceFunction(name: string): (o: number) => number {
  evidenceFunction(name); // validates the name
  if (name === 'relu') return (o) => Math.max(0, o);
  if (name === 'exp') return (o) => Math.exp(Math.min(10, Math.max(-10, o)));
  return (o) => (o > 0 ? o + Math.log1p(Math.exp(-o)) : Math.log1p(Math.exp(o)));
}
