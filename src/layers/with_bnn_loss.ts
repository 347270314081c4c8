/**
 * MindSpore's Bayesian loss cell {@link WithBNNLoss}: a fixed-factor combination of the data loss
 * and the summed KL of the Bayesian layers,
 * `loss = dnnFactor * lossFn(model(x), y) + bnnFactor * sum_l KL_l`
 * (the common machinery is {@link BayesianLossCell} in `bnn_loss.ts`).
 */
import { ArgumentError } from '../utils/errors.js';
import type { LossFn, LossName } from './losses.js';
import { BayesianLossCell, type Backbone } from './bnn_loss.js';

/**
 * MindSpore's `WithBNNLossCell`:
 * `loss = dnnFactor * lossFn(backbone(x), y) + bnnFactor * sum_l KL_l`.
 * @example
 * ```ts
 * // MindSpore's Bayesian LeNet example: WithBNNLossCell(network, criterion, 60000, 0.000001)
 * const cell = new WithBNNLoss(model, 'softmaxCrossEntropy', 60000, 1e-6);
 * optimizer.minimize(() => cell.compute(x, y).loss);
 * ```
 */
export class WithBNNLoss extends BayesianLossCell {
  readonly dnnFactor: number;
  readonly bnnFactor: number;

  /**
   * @param backbone the network.
   * @param lossFn data loss `lossFn(output, target)` or a name. Default softmax cross-entropy
   *   (of `log p` for a softmax head; of `[log(1 - p), log p]` / `[0, z]` for a one-output binary
   *   classifier with a sigmoid / linear output, i.e. its Bernoulli NLL); `'mse'` for regression.
   * @param dnnFactor factor of the data loss. Default 1.
   * @param bnnFactor factor of the summed KL. Default 1.
   */
  constructor(
    backbone: Backbone,
    lossFn: LossFn | LossName = 'softmaxCrossEntropy',
    dnnFactor = 1,
    bnnFactor = 1,
  ) {
    super(backbone, lossFn);
    for (const [name, v] of [
      ['dnnFactor', dnnFactor],
      ['bnnFactor', bnnFactor],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new ArgumentError(name, `expected a finite number >= 0, got ${String(v)}`);
      }
    }
    this.dnnFactor = dnnFactor;
    this.bnnFactor = bnnFactor;
  }

  klFactor(): number {
    return this.bnnFactor;
  }
  protected override nllFactor(): number {
    return this.dnnFactor;
  }
}
