/** The data of an uncertainty report (what `report.json` holds and the HTML shows). */
import type { ReliabilityBin } from '../metrics.js';
import type { OodMetrics } from '../ood.js';

/** One uncertainty score compared in- vs out-of-distribution. */
export interface ScoreSummary {
  /** Short key, e.g. `mutual_information`. */
  key: string;
  /** Display name. */
  name: string;
  /** What it measures (one line). */
  description: string;
  /** Detection metrics with this score (higher = more likely OOD). */
  ood: OodMetrics;
  /** Mean score in / out of distribution. */
  meanIn: number;
  meanOut: number;
  /**
   * Histogram on shared bins: edges and counts for both sets; `omittedIn` / `omittedOut` (present
   * when either is not 0) count the `±Infinity` scores, which no bin holds.
   */
  histogram: {
    edges: number[];
    countsIn: number[];
    countsOut: number[];
    omittedIn?: number;
    omittedOut?: number;
  };
}

/** A gallery entry: one test image with its predictive distribution. */
export interface GalleryItem {
  /** Index in the test set. */
  index: number;
  /** True label. */
  label: number;
  /** Predicted class. */
  prediction: number;
  /** Predictive distribution (class probabilities). */
  probs: number[];
  /** Value of the primary uncertainty score. */
  score: number;
  /** The image as a PNG data URI (when images were given). */
  image?: string;
}

/** Everything in an uncertainty report. */
export interface UncertaintyReport {
  title: string;
  createdAt: string;
  model: { name: string; kind: string; checkpoint?: string };
  inDistribution: { name: string; count: number };
  outOfDistribution: { name: string; count: number };
  /** Monte Carlo samples per input (stochastic models). */
  mcSamples?: number;
  /** Test-set metrics of the predictive distribution. */
  metrics: {
    accuracy: number;
    nll: number;
    brier: number;
    ece: number;
    mce: number;
    numBins: number;
  };
  /** Reliability-diagram bins. */
  reliability: ReliabilityBin[];
  /** The uncertainty scores, the first being the primary one (gallery order). */
  scores: ScoreSummary[];
  /** Most / least certain in-distribution test images under the primary score. */
  gallery: { mostCertain: GalleryItem[]; leastCertain: GalleryItem[] };
  /** Class names for the axes (default the class index). */
  classNames?: string[];
}
