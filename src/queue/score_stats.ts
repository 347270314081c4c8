/**
 * Sufficient statistics of Monte Carlo uncertainty scoring, so that a large image set scored in
 * shards by many workers merges into the metrics of one pass, in any order. For image `n` with
 * `S` sampled probability vectors `p_s`, the shard keeps the per-image sums `sum_s p_s` and
 * `sum_s p_s^2` only long enough to reduce them, per block of images, to sums over images:
 *
 * - the predictive mean `m = (1/S) sum_s p_s`, its accuracy, NLL `-log m_y`, Brier score;
 * - predictive entropy `H[m]`, expected entropy `(1/S) sum_s H[p_s]`, mutual information
 *   `H[m] - (1/S) sum_s H[p_s]`, the total variance `sum_k ((1/S) sum_s p_sk^2 - m_k^2)`;
 * - calibration bins (count, summed confidence, hits) with the binning of `toolbox.calibration`;
 * - per-class sums of `m_k` and of `(1/S) sum_s p_sk^2`.
 *
 * A block's statistics depend only on its images and its seed, so the merged metrics are the same
 * for any number of shards; merging sorts the blocks by index first, so they are bitwise the same
 * for any arrival order.
 */
import { ArgumentError, DeepProbError } from '../utils/errors.js';

/** Statistics of one block of images. */
export interface BlockStats {
  /** Block index (images `[block * blockSize, ...)`). */
  block: number;
  count: number;
  correct: number;
  nll: number;
  brier: number;
  predictiveEntropy: number;
  expectedEntropy: number;
  mutualInformation: number;
  variance: number;
  /** Calibration bins: count, summed confidence, hits. */
  binCount: number[];
  binConfidence: number[];
  binHits: number[];
  /** Per class: sum over images of `m_k`, and of `(1/S) sum_s p_sk^2`. */
  sumP: number[];
  sumP2: number[];
}

/** Metrics of merged statistics. */
export interface ScoreMetrics {
  count: number;
  blocks: number;
  accuracy: number;
  nll: number;
  brier: number;
  ece: number;
  mce: number;
  predictiveEntropy: number;
  expectedEntropy: number;
  mutualInformation: number;
  variance: number;
  /** Mean predictive probability per class. */
  meanP: number[];
  /** Mean per-class predictive variance, `mean_n ((1/S) sum_s p_sk^2 - m_k^2)` is not additive; this is `mean_n (1/S) sum_s p_sk^2 - (mean_n m_k)^2` over the set. */
  classVariance: number[];
}

const EPS = 1e-12;

function entropy(p: ArrayLike<number>, off: number, k: number): number {
  let h = 0;
  for (let j = 0; j < k; j++) {
    const v = p[off + j] as number;
    if (v > 0) h -= v * Math.log(v);
  }
  return h;
}

/**
 * Statistics of one block from its Monte Carlo probabilities.
 *
 * @param block the block index.
 * @param samples probabilities `[S, B, K]`, row-major.
 * @param labels the `B` labels.
 * @param numSamples `S`.
 * @param numClasses `K`.
 * @param numBins calibration bins (15 as `toolbox.calibration`).
 * @throws ArgumentError naming `block`, `numSamples`, `numClasses`, `numBins` (integers >= 1;
 *   `block` >= 0), `samples` (not `S x B x K` values, or one outside `[0, 1]` or NaN) or
 *   `labels` (not a class index in `[0, K)`), before any work.
 */
export function blockStats(
  block: number,
  samples: ArrayLike<number>,
  labels: ArrayLike<number>,
  numSamples: number,
  numClasses: number,
  numBins = 15,
): BlockStats {
  const count = (v: number, name: string, min: number): void => {
    if (!Number.isInteger(v) || v < min) {
      throw new ArgumentError(name, `expected an integer >= ${min}, got ${v}`);
    }
  };
  count(block, 'block', 0);
  count(numSamples, 'numSamples', 1);
  count(numClasses, 'numClasses', 1);
  count(numBins, 'numBins', 1);
  const s = numSamples;
  const k = numClasses;
  const b = labels.length;
  if (samples.length !== s * b * k) {
    throw new ArgumentError('samples', `expected ${s}x${b}x${k} values, got ${samples.length}`);
  }
  for (let n = 0; n < b; n++) {
    const y = labels[n] as number;
    if (!Number.isInteger(y) || y < 0 || y >= k) {
      throw new ArgumentError(
        'labels',
        `expected class indices in [0, ${k}), got ${y} at position ${n}`,
      );
    }
  }
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i] as number;
    if (!(v >= 0 && v <= 1 + 1e-6)) {
      throw new ArgumentError(
        'samples',
        `expected probabilities in [0, 1], got ${v} at flat index ${i}`,
      );
    }
  }
  const st: BlockStats = {
    block,
    count: b,
    correct: 0,
    nll: 0,
    brier: 0,
    predictiveEntropy: 0,
    expectedEntropy: 0,
    mutualInformation: 0,
    variance: 0,
    binCount: new Array<number>(numBins).fill(0),
    binConfidence: new Array<number>(numBins).fill(0),
    binHits: new Array<number>(numBins).fill(0),
    sumP: new Array<number>(k).fill(0),
    sumP2: new Array<number>(k).fill(0),
  };
  const m = new Float64Array(k);
  const q = new Float64Array(k);
  for (let n = 0; n < b; n++) {
    m.fill(0);
    q.fill(0);
    let eh = 0;
    for (let i = 0; i < s; i++) {
      const off = (i * b + n) * k;
      for (let j = 0; j < k; j++) {
        const v = samples[off + j] as number;
        m[j] = (m[j] as number) + v;
        q[j] = (q[j] as number) + v * v;
      }
      eh += entropy(samples, off, k);
    }
    let best = 0;
    let variance = 0;
    const y = labels[n] as number;
    let brier = 0;
    for (let j = 0; j < k; j++) {
      m[j] = (m[j] as number) / s;
      q[j] = (q[j] as number) / s;
      variance += (q[j] as number) - (m[j] as number) ** 2;
      if ((m[j] as number) > (m[best] as number)) best = j;
      brier += ((m[j] as number) - (j === y ? 1 : 0)) ** 2;
      st.sumP[j] = (st.sumP[j] as number) + (m[j] as number);
      st.sumP2[j] = (st.sumP2[j] as number) + (q[j] as number);
    }
    const h = entropy(m, 0, k);
    const c = m[best] as number;
    const bin = Math.min(numBins - 1, Math.max(0, Math.ceil(c * numBins) - 1));
    st.binCount[bin] = (st.binCount[bin] as number) + 1;
    st.binConfidence[bin] = (st.binConfidence[bin] as number) + c;
    if (best === y) {
      st.correct += 1;
      st.binHits[bin] = (st.binHits[bin] as number) + 1;
    }
    st.nll -= Math.log(Math.max(m[y] as number, EPS));
    st.brier += brier;
    st.predictiveEntropy += h;
    st.expectedEntropy += eh / s;
    st.mutualInformation += h - eh / s;
    st.variance += variance;
  }
  return st;
}

function addInto(into: number[], from: number[], what: string): void {
  if (into.length !== from.length) {
    throw new DeepProbError(`cannot merge ${what}: ${into.length} vs ${from.length} entries`);
  }
  for (let i = 0; i < into.length; i++) into[i] = (into[i] as number) + (from[i] as number);
}

/**
 * Merge block statistics from any number of shards, in any order, into metrics: the blocks are
 * sorted by index and summed, so the result does not depend on the order.
 *
 * $$\text{ECE} = \sum_b \frac{n_b}{N}\left|\frac{\text{hits}_b}{n_b} - \frac{\text{conf}_b}{n_b}\right|$$
 *
 * @param blocks the statistics of every block (each index once).
 * @throws DeepProbError when a block index appears twice or nothing is given.
 */
export function mergeBlockStats(blocks: readonly BlockStats[]): ScoreMetrics {
  if (blocks.length === 0) throw new DeepProbError('no scoring statistics to merge');
  const sorted = [...blocks].sort((a, b) => a.block - b.block);
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i] as BlockStats).block === (sorted[i - 1] as BlockStats).block) {
      throw new DeepProbError(`block ${(sorted[i] as BlockStats).block} was counted twice`);
    }
  }
  const first = sorted[0] as BlockStats;
  const t: BlockStats = {
    ...first,
    binCount: [...first.binCount],
    binConfidence: [...first.binConfidence],
    binHits: [...first.binHits],
    sumP: [...first.sumP],
    sumP2: [...first.sumP2],
  };
  for (const b of sorted.slice(1)) {
    t.count += b.count;
    t.correct += b.correct;
    t.nll += b.nll;
    t.brier += b.brier;
    t.predictiveEntropy += b.predictiveEntropy;
    t.expectedEntropy += b.expectedEntropy;
    t.mutualInformation += b.mutualInformation;
    t.variance += b.variance;
    addInto(t.binCount, b.binCount, 'calibration bins');
    addInto(t.binConfidence, b.binConfidence, 'calibration bins');
    addInto(t.binHits, b.binHits, 'calibration bins');
    addInto(t.sumP, b.sumP, 'class sums');
    addInto(t.sumP2, b.sumP2, 'class sums');
  }
  const n = t.count;
  let ece = 0;
  let mce = 0;
  t.binCount.forEach((c, i) => {
    if (c > 0) {
      const gap = Math.abs((t.binHits[i] as number) / c - (t.binConfidence[i] as number) / c);
      ece += (c / n) * gap;
      mce = Math.max(mce, gap);
    }
  });
  const meanP = t.sumP.map((v) => v / n);
  return {
    count: n,
    blocks: sorted.length,
    accuracy: t.correct / n,
    nll: t.nll / n,
    brier: t.brier / n,
    ece,
    mce,
    predictiveEntropy: t.predictiveEntropy / n,
    expectedEntropy: t.expectedEntropy / n,
    mutualInformation: t.mutualInformation / n,
    variance: t.variance / n,
    meanP,
    classVariance: t.sumP2.map((v, j) => v / n - (meanP[j] as number) ** 2),
  };
}
