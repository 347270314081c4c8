/**
 * The evidential losses as `pytorch-classification-uncertainty` (dougbrion, after Sensoy et al.
 * 2018) calls them: `edl_mse_loss`, `edl_log_loss`, `edl_digamma_loss` take the raw network
 * output, turn it into evidence (ReLU by default), and add the annealed KL of the misleading
 * evidence to the uniform Dirichlet, `min(1, epoch / annealingStep) * KL`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import {
  allWithin,
  checkFinite,
  checkValues,
  peekValues,
  toFloat,
  type TensorInput,
} from '../../utils/tensor.js';
import { checkEvidence, checkTarget, reduce, type Reduction } from './common.js';
import { evidenceFunction, type EvidenceName } from './evidence.js';
import { klToUniform, klUniformLoss } from './kl.js';
import { crossEntropyBayesRisk, maximumLikelihoodLoss, squaredErrorBayesRisk } from './losses.js';

/** Options of {@link edlMseLoss}, {@link edlLogLoss} and {@link edlDigammaLoss}. */
export interface EdlLossOptions {
  /**
   * Evidence function applied to `output`: `'relu'` (default, as the reference), `'softplus'`,
   * `'exp'` (`exp(clip(o, -10, 10))`) or a function of the output.
   */
  evidence?: EvidenceName | ((output: TensorInput) => tf.Tensor);
  /** `'mean'` over the batch (default, as the reference), `'sum'` or `'none'` (`[N]`). */
  reduction?: Reduction;
  /** Add the annealed KL term (default true; the reference's `useKL`). */
  useKL?: boolean;
}

const EDL_OPTION_KEYS = ['evidence', 'reduction', 'useKL'] as const;
const MAX_FLOAT32 = 3.4028234663852886e38;

/**
 * The annealing coefficient of the KL term, `lambda_t = min(1, epoch / annealingStep)` (Sensoy et
 * al. 2018, eq. 5 with `annealing_step = 10` in their code).
 *
 * @param epochNum the epoch (0-based in the reference's training loop), a finite number >= 0.
 * @param annealingStep epochs to reach full weight, a finite number > 0.
 * @example
 * ```ts
 * annealingCoefficient(3, 10); // 0.3
 * ```
 */
export function annealingCoefficient(epochNum: number, annealingStep: number): number {
  if (typeof epochNum !== 'number' || !Number.isFinite(epochNum) || epochNum < 0) {
    throw new ArgumentError('epochNum', `expected a finite number >= 0, got ${String(epochNum)}`);
  }
  if (typeof annealingStep !== 'number' || !Number.isFinite(annealingStep) || annealingStep <= 0) {
    throw new ArgumentError(
      'annealingStep',
      `expected a finite number > 0, got ${String(annealingStep)}`,
    );
  }
  return Math.min(1, epochNum / annealingStep);
}

/**
 * KL divergence of `Dir(alpha)` from the uniform Dirichlet `Dir(1)` per row (the reference's
 * `kl_divergence(alpha, num_classes)`, applied there to `alphã = (alpha - 1)(1 - y) + 1`):
 *
 * $$\mathrm{KL}[\mathrm{Dir}(\alpha)\,\|\,\mathrm{Dir}(\mathbf 1)] =
 * \log\Gamma(S) - \log\Gamma(K) - \sum_k\log\Gamma(\alpha_k)
 * + \sum_k(\alpha_k - 1)\big[\psi(\alpha_k) - \psi(S)\big],\quad S = \sum_k\alpha_k$$
 *
 * computed by `klToUniform` (kl.ts), without the float32 cancellation of the direct form.
 *
 * @param alpha concentrations `[N, K]`, finite and > 0, `K >= 2`.
 * @param numClasses `K`, checked against `alpha` when given.
 * @returns the divergence of each row, `[N]`.
 * @example
 * ```ts
 * dirichletKLUniform([[1, 1, 1]]); // [0]
 * ```
 */
export function dirichletKLUniform(alpha: TensorInput, numClasses?: number): tf.Tensor1D {
  return tf.tidy(() => {
    const a = toFloat(alpha, 'alpha');
    if (a.rank !== 2 || (a.shape[1] as number) < 2) {
      throw new ArgumentError(
        'alpha',
        `expected [batch, classes] with at least 2 classes, got [${a.shape.join(',')}]`,
      );
    }
    const k = a.shape[1] as number;
    if (numClasses !== undefined) checkNumClasses(numClasses, k, 'alpha');
    if (!allWithin(peekValues(a), 0, MAX_FLOAT32, true)) {
      checkValues(a, 'alpha', (v) => v > 0 && Number.isFinite(v), 'finite concentrations > 0');
    }
    return klToUniform(a, k) as tf.Tensor1D;
  });
}

function checkNumClasses(numClasses: number, k: number, against: string): void {
  if (!Number.isInteger(numClasses) || numClasses !== k) {
    throw new ArgumentError(
      'numClasses',
      `expected the number of classes of ${against} (${k}), got ${String(numClasses)}`,
    );
  }
}

type BayesRisk = (evidence: TensorInput, target: TensorInput, reduction?: Reduction) => tf.Tensor;

/**
 * The shared body of the three losses: checks every argument before any work, maps the output to
 * evidence, and returns `reduce(risk + lambda_t * KL[Dir(alphã) || Dir(1)])`.
 */
function edlLoss(
  risk: BayesRisk,
  output: TensorInput,
  target: TensorInput,
  epochNum: number,
  numClasses: number,
  annealingStep: number,
  options: EdlLossOptions,
): tf.Tensor {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an options object, got ${String(options)}`);
  }
  checkOptionKeys(options, EDL_OPTION_KEYS, 'the EDL losses');
  const coef = annealingCoefficient(epochNum, annealingStep);
  const useKL = options.useKL ?? true;
  if (typeof useKL !== 'boolean') {
    throw new ArgumentError('useKL', `expected true or false, got ${String(options.useKL)}`);
  }
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ArgumentError(
      'reduction',
      `expected 'mean', 'sum' or 'none', got '${String(reduction)}'`,
    );
  }
  const toEvidence =
    typeof options.evidence === 'function'
      ? options.evidence
      : evidenceFunction(options.evidence ?? 'relu');
  return tf.tidy(() => {
    const o = toFloat(output, 'output');
    if (o.rank !== 2 || (o.shape[1] as number) < 2) {
      throw new ArgumentError(
        'output',
        `expected [batch, classes] with at least 2 classes, got [${o.shape.join(',')}]`,
      );
    }
    checkNumClasses(numClasses, o.shape[1] as number, 'output');
    checkFinite(o, 'output', 'network outputs');
    const y = checkTarget(target, o.shape);
    const e = checkEvidence(toEvidence(o));
    let loss = risk(e, y, 'none');
    if (useKL && coef > 0) loss = tf.add(loss, tf.mul(coef, klUniformLoss(e, y, 'none')));
    return reduce(loss, reduction);
  });
}

/**
 * The reference's `edl_mse_loss`: the squared-error Bayes risk plus the annealed KL term, on
 * `alpha = relu(output) + 1`, averaged over the batch:
 *
 * $$\mathcal L = \frac1N\sum_i\Big[\sum_k (y_{ik} - \hat p_{ik})^2
 * + \frac{\hat p_{ik}(1 - \hat p_{ik})}{S_i + 1}
 * + \lambda_t\,\mathrm{KL}[\mathrm{Dir}(\tilde\alpha_i)\,\|\,\mathrm{Dir}(\mathbf 1)]\Big],
 * \quad \hat p = \alpha / S,\ \tilde\alpha = y + (1 - y)\alpha,\ \lambda_t = \min(1, t/T)$$
 *
 * @param output raw network outputs `[N, K]` (finite).
 * @param target one-hot (or soft) rows `[N, K]` or integer labels `[N]`.
 * @param epochNum the epoch `t` (>= 0).
 * @param numClasses `K`, checked against `output`.
 * @param annealingStep `T` (> 0; the reference uses 10).
 * @param options evidence function, reduction, `useKL`.
 * @example
 * ```ts
 * const loss = edlMseLoss(model.apply(x) as tf.Tensor, yOneHot, epoch, 10, 10);
 * ```
 */
export function edlMseLoss(
  output: TensorInput,
  target: TensorInput,
  epochNum: number,
  numClasses: number,
  annealingStep: number,
  options: EdlLossOptions = {},
): tf.Tensor {
  return edlLoss(
    squaredErrorBayesRisk,
    output,
    target,
    epochNum,
    numClasses,
    annealingStep,
    options,
  );
}

/**
 * The reference's `edl_log_loss` (`edl_loss(torch.log, ...)`): the type-II maximum likelihood loss
 * plus the annealed KL term, on `alpha = relu(output) + 1`, averaged over the batch:
 *
 * $$\mathcal L = \frac1N\sum_i\Big[\sum_k y_{ik}(\log S_i - \log\alpha_{ik})
 * + \lambda_t\,\mathrm{KL}[\mathrm{Dir}(\tilde\alpha_i)\,\|\,\mathrm{Dir}(\mathbf 1)]\Big]$$
 *
 * @param output raw network outputs `[N, K]` (finite).
 * @param target one-hot (or soft) rows `[N, K]` or integer labels `[N]`.
 * @param epochNum the epoch `t` (>= 0).
 * @param numClasses `K`, checked against `output`.
 * @param annealingStep `T` (> 0).
 * @param options evidence function, reduction, `useKL`.
 * @example
 * ```ts
 * edlLogLoss([[9, 0]], [0], 0, 2, 10); // log(11/10)
 * ```
 */
export function edlLogLoss(
  output: TensorInput,
  target: TensorInput,
  epochNum: number,
  numClasses: number,
  annealingStep: number,
  options: EdlLossOptions = {},
): tf.Tensor {
  return edlLoss(
    maximumLikelihoodLoss,
    output,
    target,
    epochNum,
    numClasses,
    annealingStep,
    options,
  );
}

/**
 * The reference's `edl_digamma_loss` (`edl_loss(torch.digamma, ...)`): the cross-entropy Bayes
 * risk plus the annealed KL term, on `alpha = relu(output) + 1`, averaged over the batch:
 *
 * $$\mathcal L = \frac1N\sum_i\Big[\sum_k y_{ik}\big(\psi(S_i) - \psi(\alpha_{ik})\big)
 * + \lambda_t\,\mathrm{KL}[\mathrm{Dir}(\tilde\alpha_i)\,\|\,\mathrm{Dir}(\mathbf 1)]\Big]$$
 *
 * @param output raw network outputs `[N, K]` (finite).
 * @param target one-hot (or soft) rows `[N, K]` or integer labels `[N]`.
 * @param epochNum the epoch `t` (>= 0).
 * @param numClasses `K`, checked against `output`.
 * @param annealingStep `T` (> 0).
 * @param options evidence function, reduction, `useKL`.
 * @example
 * ```ts
 * edlDigammaLoss([[9, 0]], [0], 0, 2, 10); // digamma(11) - digamma(10) = 0.1
 * ```
 */
export function edlDigammaLoss(
  output: TensorInput,
  target: TensorInput,
  epochNum: number,
  numClasses: number,
  annealingStep: number,
  options: EdlLossOptions = {},
): tf.Tensor {
  return edlLoss(
    crossEntropyBayesRisk,
    output,
    target,
    epochNum,
    numClasses,
    annealingStep,
    options,
  );
}
