/**
 * Variational inference for deep probabilistic networks (MindSpore's `nn.probability.infer`):
 * the `ELBO` loss and `SVI` training, plus `WithLossCell`. The Pyro-style model/guide inference
 * lives in the `ppl` namespace (`ppl.SVI`, `ppl.TraceELBO`).
 *
 * @module
 */
export {
  ELBO,
  squaredErrorSum,
  bernoulliNLLSum,
  bernoulliLogitsNLLSum,
  normalNLLSum,
  klStandardNormalSum,
  type ELBOOptions,
} from './elbo.js';
export { WithLossCell, type NetWithLoss, type OutputLoss } from './with_loss.js';
export {
  SVI,
  type Batch,
  type BatchLike,
  type AsyncDataset,
  type Dataset,
  type SVIOptions,
  type EpochReport,
} from './svi.js';
