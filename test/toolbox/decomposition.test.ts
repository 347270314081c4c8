import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox, ArgumentError } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const {
  predictiveEntropy,
  expectedEntropy,
  mutualInformation,
  probabilityVariance,
  decompose,
  kwonUncertainty,
  softmaxUncertainty,
  normalizedUncertainty,
} = toolbox;

const H = (p: number[]): number => -p.reduce((s, v) => s + (v > 0 ? v * Math.log(v) : 0), 0);

/** Brute-force Kwon et al. matrices on the host: full K x K, then the diagonal. */
function kwonHost(samples: number[][]): { ale: number[]; epi: number[] } {
  const S = samples.length;
  const K = (samples[0] as number[]).length;
  const pbar = Array.from(
    { length: K },
    (_, k) => samples.reduce((a, p) => a + (p[k] as number), 0) / S,
  );
  const ale = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  const epi = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (const p of samples) {
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        const pi = p[i] as number;
        const pj = p[j] as number;
        (ale[i] as number[])[j] =
          ((ale[i] as number[])[j] as number) + ((i === j ? pi : 0) - pi * pj) / S;
        (epi[i] as number[])[j] =
          ((epi[i] as number[])[j] as number) +
          ((pi - (pbar[i] as number)) * (pj - (pbar[j] as number))) / S;
      }
    }
  }
  return { ale: ale.map((r, i) => r[i] as number), epi: epi.map((r, i) => r[i] as number) };
}

describe('entropy decomposition', () => {
  it('identical samples: zero epistemic, entropy of the prediction', () => {
    const p = [0.7, 0.2, 0.1];
    const probs = tf.tensor3d([[p], [p], [p], [p]]);
    expect(expectNoLeak(() => mutualInformation(probs))).toBeAllclose([0], { atol: 1e-6 });
    expect(expectNoLeak(() => predictiveEntropy(probs))).toBeAllclose([H(p)], { rtol: 1e-5 });
    expect(expectNoLeak(() => expectedEntropy(probs))).toBeAllclose([H(p)], { rtol: 1e-5 });
    expect(expectNoLeak(() => probabilityVariance(probs))).toBeAllclose([0, 0, 0], { atol: 1e-7 });
    const k = kwonUncertainty(probs);
    expect(k.epistemicTotal).toBeAllclose([0], { atol: 1e-7 });
    expect(k.aleatoric).toBeAllclose(
      p.map((v) => v - v * v),
      { rtol: 1e-5 },
    );
    tf.dispose([probs, ...Object.values(k)]);
  });

  it('uniform predictions reach the maximum entropy log K', () => {
    const probs = tf.fill([5, 2, 4], 0.25);
    expect(expectNoLeak(() => predictiveEntropy(probs))).toBeAllclose([Math.log(4), Math.log(4)]);
    expect(expectNoLeak(() => expectedEntropy(probs))).toBeAllclose(Math.log(4));
    expect(expectNoLeak(() => mutualInformation(probs))).toBeAllclose(0, { atol: 1e-6 });
    probs.dispose();
  });

  it('disagreeing one-hot samples: all uncertainty is epistemic, MI = log 2', () => {
    const probs = tf.tensor3d([[[1, 0]], [[0, 1]]]);
    expect(expectNoLeak(() => mutualInformation(probs))).toBeAllclose([Math.log(2)], {
      rtol: 1e-5,
    });
    expect(expectNoLeak(() => expectedEntropy(probs))).toBeAllclose([0], { atol: 1e-6 });
    expect(expectNoLeak(() => probabilityVariance(probs))).toBeAllclose([0.25, 0.25]);
    const k = kwonUncertainty(probs);
    expect(k.aleatoricTotal).toBeAllclose([0], { atol: 1e-7 });
    expect(k.epistemicTotal).toBeAllclose([0.5]);
    tf.dispose([probs, ...Object.values(k)]);
  });

  it('hand-computed two-sample example', () => {
    // p1 = [.8,.2], p2 = [.4,.6]: pbar = [.6,.4]
    const probs = tf.tensor3d([[[0.8, 0.2]], [[0.4, 0.6]]]);
    const before = tf.memory().numTensors;
    const d = decompose(probs);
    const pe = H([0.6, 0.4]);
    const ee = (H([0.8, 0.2]) + H([0.4, 0.6])) / 2;
    expect(d.predictiveEntropy).toBeAllclose([pe], { rtol: 1e-5 });
    expect(d.expectedEntropy).toBeAllclose([ee], { rtol: 1e-5 });
    expect(d.mutualInformation).toBeAllclose([pe - ee], { rtol: 1e-4 });
    expect(d.meanVariance).toBeAllclose([0.04], { rtol: 1e-5 });
    expect(d.oneMinusMaxProb).toBeAllclose([0.4], { rtol: 1e-5 });
    expect(d.meanProbs).toBeAllclose([0.6, 0.4], { rtol: 1e-5 });
    tf.dispose(Object.values(d));
    expect(tf.memory().numTensors).toBe(before);
    const k = kwonUncertainty(probs);
    // aleatoric_k = pbar_k - mean_s p_k^2 = 0.2; epistemic_k = 0.04
    expect(k.aleatoric).toBeAllclose([0.2, 0.2], { rtol: 1e-5 });
    expect(k.epistemic).toBeAllclose([0.04, 0.04], { rtol: 1e-5 });
    tf.dispose([probs, ...Object.values(k)]);
  });

  it('softmax and normalized methods match brute-force covariance matrices', () => {
    const S = 6;
    const N = 3;
    const K = 4;
    const logits = tf.randomNormal([S, N, K], 0, 2, 'float32', 7);
    const raw = logits.arraySync() as number[][][];
    const before = tf.memory().numTensors;
    const soft = softmaxUncertainty(logits);
    const norm = normalizedUncertainty(logits);
    for (let n = 0; n < N; n++) {
      const sm = raw.map((s) => {
        const row = s[n] as number[];
        const m = Math.max(...row);
        const ex = row.map((v) => Math.exp(v - m));
        const z = ex.reduce((a, b) => a + b, 0);
        return ex.map((v) => v / z);
      });
      const sp = raw.map((s) => {
        const row = (s[n] as number[]).map((v) => Math.log1p(Math.exp(v)));
        const z = row.reduce((a, b) => a + b, 0);
        return row.map((v) => v / z);
      });
      const a = kwonHost(sm);
      const b = kwonHost(sp);
      const sliceRow = (t: tf.Tensor): number[] => (t.arraySync() as number[][])[n] as number[];
      expect(sliceRow(soft.aleatoric)).toBeAllclose(a.ale, { rtol: 1e-4, atol: 1e-6 });
      expect(sliceRow(soft.epistemic)).toBeAllclose(a.epi, { rtol: 1e-4, atol: 1e-6 });
      expect(sliceRow(norm.aleatoric)).toBeAllclose(b.ale, { rtol: 1e-4, atol: 1e-6 });
      expect(sliceRow(norm.epistemic)).toBeAllclose(b.epi, { rtol: 1e-4, atol: 1e-6 });
      expect((soft.aleatoricTotal.arraySync() as number[])[n]).toBeAllclose(
        a.ale.reduce((x, y) => x + y, 0),
        { rtol: 1e-4 },
      );
    }
    tf.dispose([...Object.values(soft), ...Object.values(norm)]);
    expect(tf.memory().numTensors).toBe(before);
    logits.dispose();
  });

  it('rejects inputs that are not [S, N, K]', () => {
    expect(() => mutualInformation(tf.zeros([2, 3]))).toThrow(ArgumentError);
    expect(() => predictiveEntropy([[0.5, 0.5]])).toThrow(/probs/);
  });
});

describe('decomposition dtypes and histogram NaN', () => {
  it('refuses int32 probabilities / logits / outputs naming the argument, before any work and without leaks', () => {
    // one-hot int32 "probabilities" (labels by mistake) were cast and scored as certain predictions
    const probs = tf.tensor3d([[[1, 0]], [[0, 1]]], [2, 1, 2], 'int32');
    const calls: [string, () => unknown][] = [
      ['probs', () => decompose(probs)],
      ['probs', () => predictiveEntropy(probs)],
      ['probs', () => expectedEntropy(probs)],
      ['probs', () => mutualInformation(probs)],
      ['probs', () => probabilityVariance(probs)],
      ['probs', () => toolbox.meanProbs(probs)],
      ['probs', () => kwonUncertainty(probs)],
      ['logits', () => softmaxUncertainty(probs)],
      ['outputs', () => normalizedUncertainty(probs)],
      ['outputs', () => toolbox.softplusNormalize(probs)],
    ];
    for (const [arg, run] of calls) {
      const before = tf.memory().numTensors;
      expect(run).toThrow(ArgumentError);
      expect(run).toThrow(new RegExp(`^${arg}: expected a float32 tensor, got dtype int32`));
      expect(tf.memory().numTensors).toBe(before);
    }
    // the same values as float32 are accepted (MI of two disagreeing certain samples = log 2)
    const f = tf.cast(probs, 'float32');
    expect(expectNoLeak(() => mutualInformation(f))[0]).toBeCloseTo(Math.log(2), 5);
    tf.dispose([probs, f]);
  });

  it('histogram refuses NaN naming values and the count (numpy.histogram raises); counts otherwise unchanged', () => {
    expect(() => toolbox.histogram([0.1, NaN, 0.7, NaN], 2)).toThrow(
      /^values: expected no NaN .*got 2 NaN of 4 values \(first at index 1\)/,
    );
    expect(() => toolbox.histogram(Float32Array.from([NaN]), 2)).toThrow(/values: .*1 NaN of 1/);
    expect(toolbox.histogram([0.1, 0.7, 0.9, -3, 5], 2).counts).toEqual([2, 3]);
  });
});
