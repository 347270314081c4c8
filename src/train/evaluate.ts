/**
 * Test-set evaluation of a classifier: accuracy with one forward pass, with the posterior-mean
 * weights (Bayesian models) and with the N-sample Monte Carlo predictive
 *
 * $$p(y\mid x) \approx \frac1N \sum_{s=1}^N \operatorname{softmax}(f_{w_s}(x)),\quad w_s \sim q(w),$$
 *
 * plus the predictive NLL `-log p(y|x)`, the predictive entropy `H[p]`, the expected entropy
 * `E_s H[p_s]` (aleatoric part), the mutual information `H[p] - E_s H[p_s]` (epistemic part) and
 * the expected calibration error of the predictive over {@link ECE_BINS} equal-width confidence
 * bins `B_b = ((b-1)/15, b/15]`, `ECE = sum_b (|B_b|/n) |acc(B_b) - conf(B_b)|` (the toolbox's
 * `calibration`).
 * For evidential models, the mean Dirichlet uncertainty `u = K / sum_k alpha_k` with
 * `alpha = evidence(o) + 1` (softplus evidence by default).
 */
import * as tf from '@tensorflow/tfjs';
import { entropyLastAxis } from '../toolbox/decomposition.js';
import { modelLogits } from '../toolbox/class_outputs.js';
import { evidenceFunction } from '../toolbox/evidential/evidence.js';
import { Batcher } from '../data/batcher.js';
import { ArgumentError } from '../utils/errors.js';
import { booleanOption, checkFunction, integerOption, optionsObject } from '../utils/options.js';
import { checkSetsAgainstModel } from './set_checks.js';

/** Which kind of model is evaluated (decides what is computed). */
export type EvalKind = 'plain' | 'bayesian' | 'evidential';

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Model kind (default `'plain'`). */
  kind?: EvalKind;
  /** MC samples for Bayesian models (default 10). */
  mcSamples?: number;
  /** Switch a Bayesian model between sampling and posterior-mean weights. */
  setMode?: (model: tf.LayersModel, mode: 'sample' | 'mean') => void;
  /** Also return per-image entropy, mutual information and correctness. Default false. */
  perExample?: boolean;
  /** Called after each batch with (done, total) images. */
  onBatch?: (done: number, total: number) => void;
  /** Evidence function of evidential models, `relu | softplus | exp` (default `softplus`). */
  evidence?: string;
  /**
   * Checked after every batch (the loop yields to the event loop first, so a signal handler can
   * set it): true ends the pass there, and the result has `stopped: true`.
   */
  shouldStop?: () => boolean;
}

/** Evaluation results (accuracies in [0, 1], information in nats, averages per image). */
export interface EvalResult {
  /** Images evaluated. */
  count: number;
  /** Accuracy of one forward pass (one weight sample for Bayesian models). */
  accuracy: number;
  /** Accuracy with posterior-mean weights (Bayesian only). */
  accuracyMean?: number;
  /** Accuracy of the MC predictive (Bayesian only). */
  accuracyMc?: number;
  /** MC samples used. */
  mcSamples?: number;
  /** Predictive NLL (MC predictive for Bayesian models). */
  nll: number;
  /** Mean predictive entropy. */
  entropy: number;
  /** Mean expected entropy (aleatoric). */
  expectedEntropy?: number;
  /** Mean mutual information (epistemic). */
  mutualInformation?: number;
  /**
   * Expected calibration error of the predictive (the MC predictive for Bayesian models, the
   * softmax of the outputs otherwise), {@link ECE_BINS} equal-width confidence bins.
   */
  ece: number;
  /** Mean evidential uncertainty `K / S` (evidential only). */
  evidentialUncertainty?: number;
  /** Per-image values, with `perExample: true`. */
  perExample?: PerExample;
  /** True when `shouldStop` ended the pass early: the figures cover the first `count` images only. */
  stopped?: boolean;
}

/** Per-image uncertainty of the (MC) predictive. */
export interface PerExample {
  /** Predictive entropy (nats). */
  entropy: Float32Array;
  /** Mutual information (Bayesian) or evidential uncertainty `K/S` (evidential); else 0. */
  epistemic: Float32Array;
  /** 1 when the (MC) prediction is correct. */
  correct: Uint8Array;
}

/** Confidence bins of the ECE (as `toolbox.calibration`'s default). */
export const ECE_BINS = 15;

/** The kinds of {@link evaluate}. */
const EVAL_KINDS: readonly string[] = ['plain', 'bayesian', 'evidential'];

/** The option names of {@link evaluate}. */
const EVALUATE_OPTIONS = [
  'kind',
  'mcSamples',
  'setMode',
  'perExample',
  'onBatch',
  'evidence',
  'shouldStop',
];

/**
 * Evaluate `model` on every batch of `batcher` (which should not shuffle).
 *
 * @param model the classifier (logits; a softmax or one-output head is read as its class logits,
 *   `toolbox/class_outputs.ts` `modelLogits`).
 * @param batcher test batches.
 * @param options kind, MC samples, mode switch.
 * @throws ArgumentError before the first batch naming the option (an unknown key, `kind`,
 *   `mcSamples` not an integer >= 1, `setMode` missing for `'bayesian'`), `model`, or `batcher`
 *   (not a `data.Batcher`, images not of the model's input shape, labels outside its classes).
 * @example
 * ```ts
 * const r = await evaluate(net, testBatcher, { kind: 'bayesian', mcSamples: 10, setMode });
 * console.log(r.accuracyMc);
 * ```
 */
export async function evaluate(
  model: tf.LayersModel,
  batcher: Batcher,
  options: EvaluateOptions = {},
): Promise<EvalResult> {
  optionsObject(options, EVALUATE_OPTIONS, 'evaluate');
  const kind = options.kind ?? 'plain';
  if (!EVAL_KINDS.includes(kind)) {
    throw new ArgumentError(
      'kind',
      `expected one of ${EVAL_KINDS.join(', ')}, got ${JSON.stringify(kind)}`,
    );
  }
  const evidenceOf = evidenceFunction(options.evidence ?? 'softplus');
  const mc = integerOption(options.mcSamples, 'mcSamples', 10);
  const n = kind === 'bayesian' ? mc : 1;
  const setMode = options.setMode;
  if (kind === 'bayesian' && setMode === undefined) {
    throw new ArgumentError(
      'setMode',
      "kind 'bayesian' needs setMode(model, 'sample' | 'mean'), e.g. layers.setMode",
    );
  }
  if (setMode !== undefined) checkFunction(setMode, 'setMode');
  for (const k of ['onBatch', 'shouldStop'] as const) {
    if (options[k] !== undefined) checkFunction(options[k], k);
  }
  booleanOption(options.perExample, 'perExample', false);
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError('model', `expected a tf.LayersModel, got ${String(model)}`);
  }
  if (!(batcher instanceof Batcher)) {
    throw new ArgumentError('batcher', `expected a data.Batcher, got ${String(batcher)}`);
  }
  checkSetsAgainstModel(model, batcher.inputShape, [batcher.set], {
    shape: 'batcher',
    labels: 'batcher',
  });
  // the class logits of any head (a softmax-ended model's log-probabilities); evidence as it is
  const forward =
    kind === 'evidential'
      ? (x: tf.Tensor, training: boolean): tf.Tensor => model.apply(x, { training }) as tf.Tensor
      : modelLogits(model);
  // sums: correct1, correctMean, correctMc, nll, entropy, expectedEntropy, u
  const sums = new Float64Array(7);
  let count = 0;
  // per confidence bin: images, summed confidence, correct predictions
  const bins = {
    n: new Float64Array(ECE_BINS),
    conf: new Float64Array(ECE_BINS),
    hit: new Float64Array(ECE_BINS),
  };
  const total = batcher.set.count;
  const per: PerExample | undefined =
    options.perExample === true
      ? {
          entropy: new Float32Array(total),
          epistemic: new Float32Array(total),
          correct: new Uint8Array(total),
        }
      : undefined;
  let stopped = false;
  for (const batch of batcher.batches(0)) {
    try {
      let rows: tf.Tensor | undefined;
      let cal: tf.Tensor | undefined;
      const vals = tf.tidy(() => {
        const y = batch.y;
        const hit = (logits: tf.Tensor): tf.Tensor =>
          tf.cast(tf.equal(tf.argMax(logits, -1), y), 'float32');
        const k = (logits: tf.Tensor): tf.Tensor =>
          tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'float32'));
        const out: tf.Tensor[] = [];
        if (kind === 'bayesian' && setMode !== undefined) {
          setMode(model, 'sample');
          let sumP: tf.Tensor | undefined;
          let sumH: tf.Tensor | undefined;
          let sumHRows: tf.Tensor | undefined;
          let first: tf.Tensor | undefined;
          // log p_s(y | x) of every sample: the MC predictive's log-likelihood is their
          // log-mean-exp (a float32 mean of softmax probabilities underflows to 0 for a confident
          // wrong prediction, which the floor then capped at -log(1e-12) = 27.6 nats)
          const logPy: tf.Tensor[] = [];
          for (let s = 0; s < n; s++) {
            const logits = forward(batch.x, false);
            if (s === 0) first = k(logits);
            logPy.push(
              tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(y, logits.shape[1] as number)), -1),
            );
            const p = tf.softmax(logits);
            const hr = entropyLastAxis(p);
            const h = tf.sum(hr);
            if (per !== undefined) sumHRows = sumHRows === undefined ? hr : tf.add(sumHRows, hr);
            sumP = sumP === undefined ? p : tf.add(sumP, p);
            sumH = sumH === undefined ? h : tf.add(sumH, h);
          }
          setMode(model, 'mean');
          const meanLogits = forward(batch.x, false);
          setMode(model, 'sample');
          const pm = tf.div(sumP as tf.Tensor, n);
          if (per !== undefined) {
            // per-image MI needs the per-image expected entropy: recompute it from the samples' sum
            const hm = entropyLastAxis(pm);
            rows = tf.keep(
              tf.stack([hm, tf.sub(hm, tf.div(sumHRows as tf.Tensor, n)), hit(pm)], 1),
            );
          }
          cal = tf.keep(tf.stack([tf.max(pm, -1), hit(pm)], 1));
          const logPm = tf.sub(tf.logSumExp(tf.stack(logPy), 0), Math.log(n));
          out.push(
            first as tf.Tensor,
            k(meanLogits),
            k(pm),
            tf.neg(tf.sum(logPm)),
            tf.sum(entropyLastAxis(pm)),
            tf.div(sumH as tf.Tensor, n),
            tf.scalar(0),
          );
        } else {
          const logits = forward(batch.x, false);
          const kk = logits.shape[1] as number;
          // an evidential net predicts the Dirichlet mean alpha / S (as `uncertainty` and `shift`
          // read it), not the softmax of its outputs
          const alphaAll = kind === 'evidential' ? tf.add(evidenceOf(logits), 1) : undefined;
          const logp =
            alphaAll !== undefined
              ? tf.sub(tf.log(alphaAll), tf.log(tf.sum(alphaAll, -1, true)))
              : tf.logSoftmax(logits);
          const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(y, kk))));
          // the predicted class is that of the predictive: an evidential net's alpha / S, whose
          // ties (relu evidence 0 on several classes) go to the first class as the uncertainty
          // report reads them, not to the largest raw output
          const predictive = alphaAll ?? logits;
          const c = k(predictive);
          cal = tf.keep(tf.stack([tf.exp(tf.max(logp, -1)), hit(predictive)], 1));
          let u: tf.Tensor = tf.scalar(0);
          let uRows: tf.Tensor = tf.zeros([batch.size]);
          if (alphaAll !== undefined) {
            uRows = tf.div(kk, tf.sum(alphaAll, -1));
            u = tf.sum(uRows);
          }
          if (per !== undefined) {
            rows = tf.keep(tf.stack([entropyLastAxis(tf.exp(logp)), uRows, hit(predictive)], 1));
          }
          out.push(c, c, c, nll, tf.sum(entropyLastAxis(tf.exp(logp))), tf.scalar(0), u);
        }
        return tf.stack(out);
      });
      const v = vals.dataSync();
      vals.dispose();
      if (cal !== undefined) {
        const c = cal.dataSync();
        cal.dispose();
        for (let i = 0; i < batch.size; i++) {
          const conf = c[2 * i] as number;
          const b = Math.min(ECE_BINS - 1, Math.max(0, Math.ceil(conf * ECE_BINS) - 1));
          bins.n[b] = (bins.n[b] as number) + 1;
          bins.conf[b] = (bins.conf[b] as number) + conf;
          bins.hit[b] = (bins.hit[b] as number) + (c[2 * i + 1] as number);
        }
      }
      if (rows !== undefined && per !== undefined) {
        const r = rows.dataSync();
        rows.dispose();
        for (let i = 0; i < batch.size; i++) {
          per.entropy[count + i] = r[3 * i] as number;
          per.epistemic[count + i] = Math.max(0, r[3 * i + 1] as number);
          per.correct[count + i] = (r[3 * i + 2] as number) > 0.5 ? 1 : 0;
        }
      }
      for (let i = 0; i < 7; i++) sums[i] = (sums[i] as number) + (v[i] as number);
      count += batch.size;
      options.onBatch?.(count, batcher.set.count);
    } finally {
      batch.dispose();
    }
    await new Promise((r) => setTimeout(r, 0));
    if (options.shouldStop?.() === true && count < total) {
      stopped = true;
      break;
    }
  }
  const m = (i: number): number => (sums[i] as number) / Math.max(1, count);
  let ece = 0;
  for (let b = 0; b < ECE_BINS; b++) {
    const nb = bins.n[b] as number;
    if (nb > 0)
      ece += Math.abs((bins.hit[b] as number) - (bins.conf[b] as number)) / Math.max(1, count);
  }
  const r: EvalResult = { count, accuracy: m(0), nll: m(3), entropy: m(4), ece };
  if (kind === 'bayesian') {
    r.accuracyMean = m(1);
    r.accuracyMc = m(2);
    r.mcSamples = n;
    r.expectedEntropy = m(5);
    r.mutualInformation = Math.max(0, m(4) - m(5));
  }
  if (kind === 'evidential') r.evidentialUncertainty = m(6);
  if (per !== undefined) r.perExample = per;
  if (stopped) r.stopped = true;
  return r;
}
