/**
 * The predictions of `deepprob uncertainty`'s report: per batch, class probabilities (the mean
 * `pbar = (1/S) sum_s softmax(z_s)` of `S` Monte Carlo passes, one softmax, or an evidential
 * model's Dirichlet mean `alpha / S`, `S = sum_k alpha_k`) and the uncertainty scores, gathered
 * over a set on the host.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batcher } from '../data/batcher.js';
import type { ImageSet } from '../data/dataset.js';
import {
  decompose,
  entropyLastAxis,
  kwonUncertainty,
  normalizedUncertainty,
} from '../toolbox/decomposition.js';
import { dirichletOutputs } from '../toolbox/evidential/dirichlet.js';
import { evidenceFunction } from '../toolbox/evidential/evidence.js';
import { modelLogits } from '../toolbox/class_outputs.js';
import { applyWithMcDropout } from '../toolbox/predictors.js';

/** Host-side predictions of one dataset. */
export interface Predictions {
  /** Class probabilities, `count x numClasses`. */
  probs: Float64Array;
  /** The model's number of classes (its outputs', not the set's: an OOD set has its own). */
  numClasses: number;
  scores: Map<string, Float32Array>;
}

/** Per-batch computation: returns `[B, K]` probabilities and `[B]` scores keyed by name. */
export type BatchFn = (x: tf.Tensor) => {
  probs: tf.Tensor;
  scores: Record<string, tf.Tensor>;
  /** `probs` holds logits: the host computes `alpha / S`, `alpha = f(o) + 1`, in float64. */
  evidence?: boolean;
};

/**
 * The per-batch computation of a model: `evidential` (logits, the host forms `alpha / S`,
 * `alpha = f(o) + 1`), `single` (`softmax(z)`) or `sampling` (`S` passes `p_s = softmax(z_s)`,
 * mean `pbar` and the decomposition scores); `mcDropout` samples the dropout layers only.
 */
export function batchFunction(
  model: tf.LayersModel,
  mode: 'evidential' | 'sampling' | 'single',
  mcSamples: number,
  evidence: string,
  mcDropout: boolean,
): BatchFn {
  // MC dropout: only the dropout layers as in training (BatchNorm at inference, not updated)
  const logitsOf = mcDropout
    ? modelLogits(model, (x) => applyWithMcDropout(model, x) as tf.Tensor)
    : modelLogits(model);
  if (mode === 'evidential') {
    const toEvidence = evidenceFunction(evidence);
    return (x) => {
      const logits = model.apply(x, { training: false }) as tf.Tensor;
      const d = dirichletOutputs(toEvidence(logits));
      const p = d.probs;
      return {
        // alpha / S is formed on the host in float64 from the logits: in float32, softplus of
        // outputs below about -17 rounds to 0 evidence, and the predicted class becomes a tie
        probs: logits,
        evidence: true,
        scores: {
          evidential_u: d.uncertainty,
          predictive_entropy: entropyLastAxis(p),
          one_minus_max_prob: tf.sub(1, tf.max(p, -1)),
        },
      };
    };
  }
  if (mode === 'single') {
    return (x) => {
      const p = tf.softmax(logitsOf(x, false));
      return {
        probs: p,
        scores: {
          predictive_entropy: entropyLastAxis(p),
          one_minus_max_prob: tf.sub(1, tf.max(p, -1)),
        },
      };
    };
  }
  return (x) => {
    const logits: tf.Tensor[] = [];
    for (let s = 0; s < mcSamples; s++) logits.push(logitsOf(x, false));
    const l = tf.stack(logits);
    const probs = tf.softmax(l, -1);
    const d = decompose(probs);
    const k = kwonUncertainty(probs);
    const nz = normalizedUncertainty(l);
    return {
      probs: d.meanProbs,
      scores: {
        mutual_information: d.mutualInformation,
        predictive_entropy: d.predictiveEntropy,
        expected_entropy: d.expectedEntropy,
        one_minus_max_prob: d.oneMinusMaxProb,
        softmax_epistemic: k.epistemicTotal,
        softmax_aleatoric: k.aleatoricTotal,
        normalized_epistemic: nz.epistemicTotal,
        normalized_aleatoric: nz.aleatoricTotal,
      },
    };
  };
}

/**
 * Predict a set in batches to host arrays (class probabilities `count x K`, one score array per
 * key); with `shouldStop`, stops between batches returning how many images were done.
 */
export async function predictSet(
  fn: BatchFn,
  hostEvidence: (o: number) => number,
  set: ImageSet,
  batcher: Batcher,
  keys: string[],
  log: (s: string) => void,
  shouldStop?: () => boolean,
): Promise<Predictions | { stoppedAfter: number }> {
  // the model's classes, read from its first batch: an OOD set's own count (Fashion-MNIST's 10
  // against a 26-class model) would misplace every row (was: 'offset is out of bounds')
  let k = 0;
  let probs = new Float64Array(0);
  const scores = new Map(keys.map((key) => [key, new Float32Array(set.count)]));
  let done = 0;
  let lastLog = Date.now();
  for (const b of batcher.batches(0)) {
    try {
      let evidence = false;
      const out = tf.tidy(() => {
        const r = fn(b.x);
        evidence = r.evidence === true;
        return [r.probs, ...keys.map((key) => r.scores[key] as tf.Tensor)];
      });
      const vals = await Promise.all(out.map((t) => t.data()));
      tf.dispose(out);
      const pv = vals[0] as Float32Array;
      if (k === 0) {
        k = pv.length / b.size;
        probs = new Float64Array(set.count * k);
      }
      if (evidence) {
        const alpha = new Float64Array(k);
        for (let i = 0; i < b.size; i++) {
          let sum = 0;
          for (let j = 0; j < k; j++) {
            alpha[j] = hostEvidence(pv[i * k + j] as number) + 1;
            sum += alpha[j] as number;
          }
          for (let j = 0; j < k; j++) probs[(done + i) * k + j] = (alpha[j] as number) / sum;
        }
      } else {
        probs.set(pv, done * k);
      }
      keys.forEach((key, i) =>
        (scores.get(key) as Float32Array).set(vals[i + 1] as Float32Array, done),
      );
      done += b.size;
    } finally {
      b.dispose();
    }
    if (Date.now() - lastLog > 15000) {
      log(`deepprob: ${set.name}: ${done}/${set.count} images`);
      lastLog = Date.now();
    }
    if (shouldStop !== undefined) {
      // let a signal handler run (the batches' reads may resolve without a macrotask)
      await new Promise((r) => setTimeout(r, 0));
      if (shouldStop() && done < set.count) return { stoppedAfter: done };
    }
  }
  return { probs, numClasses: k, scores };
}
