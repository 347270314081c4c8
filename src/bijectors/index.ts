/**
 * Bijectors: invertible maps with tractable log-determinant Jacobians, for transformed
 * distributions and normalizing flows. Each subclass implements only `forwardAndLogDet` and
 * `inverse`; `forward`, `inverseAndLogDet` and both log-det Jacobians derive from them.
 *
 * @module
 */
export {
  Bijector,
  type BijectorOptions,
  type ForwardResult,
  type InverseResult,
  type TensorInput,
} from './bijector.js';
export { Exp } from './exp.js';
export { Sigmoid } from './sigmoid.js';
export { Softplus } from './softplus.js';
export { ScalarAffine } from './scalar_affine.js';
export { PowerTransform } from './power_transform.js';
export { GumbelCDF } from './gumbel_cdf.js';
export { Invert } from './invert.js';
export { Chain } from './chain.js';
export { Identity } from './identity.js';
export { Shift } from './shift.js';
export { Affine, type AffineOptions } from './affine.js';
export { Tanh } from './tanh.js';
export { StickBreaking } from './stick_breaking.js';
export { OrderedTransform } from './ordered.js';
export { LowerCholeskyTransform } from './lower_cholesky.js';
export { CorrCholeskyTransform } from './corr_cholesky.js';
export { CholeskyOuter } from './cholesky_outer.js';
export { IndependentTransform } from './independent_transform.js';
export { CorrCholeskyOuter } from './corr_cholesky_outer.js';
export { ZeroSumTransform } from './zero_sum.js';
export { BlockAutoregressive, type BlockAutoregressiveOptions } from './block_autoregressive.js';
export {
  blockAutoregressiveSizes,
  blockMasks,
  initBlockAutoregressive,
  type BlockAutoregressiveLayer,
} from './block_autoregressive_layers.js';
export {
  type BlockAutoregressiveActivation,
  type BlockAutoregressiveResidual,
} from './block_autoregressive_activations.js';
export { DiscreteCosineTransform } from './discrete_cosine.js';
export { HaarTransform } from './haar.js';
