/**
 * The Bayesian layer classes of the registered estimators under their public names (made in
 * `bayesian_classes.ts` from the estimator registry), with lowercase factories:
 *
 * - Dense (MindSpore `DenseReparam`, `DenseLocalReparam`; TFP `DenseFlipout`): for an input row
 *   `x`, `E[y_j] = sum_i x_i mu_ij + mu_b_j`, `Var[y_j] = sum_i x_i^2 sigma_ij^2 + sigma_b_j^2`.
 * - Conv2D (MindSpore `ConvReparam`; BayesianCNN `BBBConv2d` with and without LRT; TFP
 *   `Convolution2DFlipout`; also under TF.js's name, `Conv2DReparam` / `conv2dReparam`, ...): at
 *   every output position `E[y] = conv2d(x, mu) + mu_b`,
 *   `Var[y] = conv2d(x^2, sigma^2) + sigma_b^2`.
 * - their MOPED twins are in `moped_classes.ts`.
 *
 * The estimators differ in how the noise is shared across a batch (`estimators.ts`):
 * reparameterization draws one `W = mu + softplus(rho) * eps` per call; local reparameterization
 * samples the pre-activations `y = op(x, mu) + sqrt(op(x^2, sigma^2)) * eps` per example;
 * Flipout perturbs `y = op(x, mu) + op(x * s_in, sigma * eps) * s_out` with random signs.
 */
import { ESTIMATOR_CLASSES } from './bayesian_classes.js';
import type { Conv1DVariational, Conv1DVariationalArgs } from './conv1d_variational.js';
import type { ConvVariational, ConvVariationalArgs } from './conv_variational.js';
import type {
  Conv2DTransposeVariational,
  Conv2DTransposeVariationalArgs,
} from './conv2d_transpose_variational.js';
import type { DenseVariational, DenseVariationalArgs } from './dense_variational.js';
import type { GRUVariational, GRUVariationalArgs } from './gru_variational.js';
import type { LSTMVariational, LSTMVariationalArgs } from './lstm_variational.js';
import type { SimpleRNNVariational, SimpleRNNVariationalArgs } from './simple_rnn_variational.js';
import type { Conv3DVariational, Conv3DVariationalArgs } from './conv3d_variational.js';
import type {
  Conv3DTransposeVariational,
  Conv3DTransposeVariationalArgs,
} from './conv3d_transpose_variational.js';

const { reparam, local, flipout } = ESTIMATOR_CLASSES;

/**
 * Dense layer with reparameterized weights (Bayes by Backprop), `y = x W + b`.
 * @example
 * ```ts
 * const model = tf.sequential({ layers: [
 *   layers.denseReparam({ inChannels: 4, outChannels: 8, activation: 'relu' }),
 *   layers.denseReparam({ outChannels: 3 }) ]});
 * ```
 */
export const DenseReparam = reparam.dense;
/** Dense layer with the local reparameterization trick (BayesianCNN `BBB_LRT`). */
export const DenseLocalReparam = local.dense;
/** Dense layer with Flipout (Wen et al. 2018). */
export const DenseFlipout = flipout.dense;
/**
 * Conv2D layer with reparameterized weights (Bayes by Backprop), `y = conv2d(x, W) + b`.
 * @example
 * ```ts
 * // MindSpore's BNN LeNet conv1: ConvReparam(1, 6, 5, padMode 'valid', hasBias false)
 * const conv1 = layers.convReparam({ inChannels: 1, outChannels: 6, kernelSize: 5,
 *                                    padMode: 'valid', inputShape: [32, 32, 1] });
 * ```
 */
export const ConvReparam = reparam.conv;
/** Conv2D layer with the local reparameterization trick (`eps` per example and position). */
export const ConvLocalReparam = local.conv;
/** Conv2D layer with Flipout (signs `s_in` `[batch, 1, 1, in]`, `s_out` `[batch, 1, 1, out]`). */
export const ConvFlipout = flipout.conv;
/** Instance types of the classes above (every Dense class makes a `DenseVariational`, every Conv2D class a `ConvVariational`). */
export type DenseReparam = DenseVariational;
export type DenseLocalReparam = DenseVariational;
export type DenseFlipout = DenseVariational;
export type ConvReparam = ConvVariational;
export type ConvLocalReparam = ConvVariational;
export type ConvFlipout = ConvVariational;

/** Factory of {@link DenseReparam}. */
export const denseReparam = (args: DenseVariationalArgs): DenseVariational =>
  new reparam.dense(args);
/** Factory of {@link DenseLocalReparam}. */
export const denseLocalReparam = (args: DenseVariationalArgs): DenseVariational =>
  new local.dense(args);
/** Factory of {@link DenseFlipout}. */
export const denseFlipout = (args: DenseVariationalArgs): DenseVariational =>
  new flipout.dense(args);
/** Factory of {@link ConvReparam}. */
export const convReparam = (args: ConvVariationalArgs): ConvVariational => new reparam.conv(args);
/** Factory of {@link ConvLocalReparam}. */
export const convLocalReparam = (args: ConvVariationalArgs): ConvVariational =>
  new local.conv(args);
/** Factory of {@link ConvFlipout}. */
export const convFlipout = (args: ConvVariationalArgs): ConvVariational => new flipout.conv(args);

/**
 * TF.js's name of {@link ConvReparam} (`tf.layers.conv2d`, TFP's
 * `Convolution2DReparameterization`): the same class, saved as `'ConvReparam'`.
 */
export const Conv2DReparam = ConvReparam;
/** TF.js's name of {@link ConvLocalReparam}: the same class, saved as `'ConvLocalReparam'`. */
export const Conv2DLocalReparam = ConvLocalReparam;
/**
 * TF.js's name of {@link ConvFlipout} (TFP's `Convolution2DFlipout`): the same class, saved as
 * `'ConvFlipout'`.
 */
export const Conv2DFlipout = ConvFlipout;
export type Conv2DReparam = ConvVariational;
export type Conv2DLocalReparam = ConvVariational;
export type Conv2DFlipout = ConvVariational;
/** Factory of {@link Conv2DReparam} (as `tf.layers.conv2d`). */
export const conv2dReparam = convReparam;
/** Factory of {@link Conv2DLocalReparam}. */
export const conv2dLocalReparam = convLocalReparam;
/** Factory of {@link Conv2DFlipout}. */
export const conv2dFlipout = convFlipout;

/**
 * Conv1D layer with reparameterized weights (TFP's `Convolution1DReparameterization`),
 * `y = conv1d(x, W) + b` on `[batch, length, channels]`.
 * @example
 * ```ts
 * const c = layers.conv1dReparam({ filters: 16, kernelSize: 5, padding: 'causal', inputShape: [100, 3] });
 * ```
 */
export const Conv1DReparam = reparam.conv1d;
/** Conv1D layer with the local reparameterization trick (`eps` per example and position). */
export const Conv1DLocalReparam = local.conv1d;
/** Conv1D layer with Flipout (TFP's `Convolution1DFlipout`). */
export const Conv1DFlipout = flipout.conv1d;
/** Instance types of the Conv1D classes. */
export type Conv1DReparam = Conv1DVariational;
export type Conv1DLocalReparam = Conv1DVariational;
export type Conv1DFlipout = Conv1DVariational;
/** Factory of {@link Conv1DReparam}. */
export const conv1dReparam = (args: Conv1DVariationalArgs): Conv1DVariational =>
  new reparam.conv1d(args);
/** Factory of {@link Conv1DLocalReparam}. */
export const conv1dLocalReparam = (args: Conv1DVariationalArgs): Conv1DVariational =>
  new local.conv1d(args);
/** Factory of {@link Conv1DFlipout}. */
export const conv1dFlipout = (args: Conv1DVariationalArgs): Conv1DVariational =>
  new flipout.conv1d(args);

/**
 * Conv2DTranspose layer with reparameterized weights, `y = conv2dTranspose(x, W) + b` on NHWC
 * inputs (kernel `[kh, kw, filters, inChannels]`, output `H s` with `'same'` padding,
 * `H s + max(k - s, 0)` with `'valid'`): the Bayesian upsampling layer of decoders.
 * @example
 * ```ts
 * const up = layers.conv2dTransposeReparam({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' });
 * ```
 */
export const Conv2DTransposeReparam = reparam.conv2dTranspose;
/** Conv2DTranspose layer with the local reparameterization trick (`eps` per example and position). */
export const Conv2DTransposeLocalReparam = local.conv2dTranspose;
/** Conv2DTranspose layer with Flipout (signs per example and channel). */
export const Conv2DTransposeFlipout = flipout.conv2dTranspose;
/** Instance types of the Conv2DTranspose classes. */
export type Conv2DTransposeReparam = Conv2DTransposeVariational;
export type Conv2DTransposeLocalReparam = Conv2DTransposeVariational;
export type Conv2DTransposeFlipout = Conv2DTransposeVariational;
/** Factory of {@link Conv2DTransposeReparam}. */
export const conv2dTransposeReparam = (
  args: Conv2DTransposeVariationalArgs,
): Conv2DTransposeVariational => new reparam.conv2dTranspose(args);
/** Factory of {@link Conv2DTransposeLocalReparam}. */
export const conv2dTransposeLocalReparam = (
  args: Conv2DTransposeVariationalArgs,
): Conv2DTransposeVariational => new local.conv2dTranspose(args);
/** Factory of {@link Conv2DTransposeFlipout}. */
export const conv2dTransposeFlipout = (
  args: Conv2DTransposeVariationalArgs,
): Conv2DTransposeVariational => new flipout.conv2dTranspose(args);

/**
 * LSTM layer with reparameterized weights (bayesian-torch's `LSTMReparameterization`): one sample
 * `K = mu + σ ⊙ ε` of the concatenated kernel `[W; U]` `[in + units, 4 units]` per call, shared by
 * every time step; gates `z_t = [x_t, h_{t-1}] K + b` (see `lstm_variational.ts`).
 * @example
 * ```ts
 * const model = tf.sequential({ layers: [
 *   layers.lstmReparam({ units: 16, inputShape: [20, 3] }),
 *   layers.denseReparam({ units: 1 }) ]});
 * ```
 */
export const LSTMReparam = reparam.lstm;
/** LSTM layer with local reparameterization of the gate pre-activations (fresh noise every step). */
export const LSTMLocalReparam = local.lstm;
/** LSTM layer with Flipout (bayesian-torch's `LSTMFlipout`; signs per example fixed over time). */
export const LSTMFlipout = flipout.lstm;
/** Instance types of the LSTM classes. */
export type LSTMReparam = LSTMVariational;
export type LSTMLocalReparam = LSTMVariational;
export type LSTMFlipout = LSTMVariational;
/** Factory of {@link LSTMReparam}. */
export const lstmReparam = (args: LSTMVariationalArgs): LSTMVariational => new reparam.lstm(args);
/** Factory of {@link LSTMLocalReparam}. */
export const lstmLocalReparam = (args: LSTMVariationalArgs): LSTMVariational =>
  new local.lstm(args);
/** Factory of {@link LSTMFlipout}. */
export const lstmFlipout = (args: LSTMVariationalArgs): LSTMVariational => new flipout.lstm(args);

/**
 * GRU layer with reparameterized weights: one sample of the kernel `K = [W; U]` `[in + units,
 * 3 units]` and bias per forward pass, shared by every time step; TF.js 4.22's GRU recurrence
 * `z_t = σ_r(x W_z + h U_z + b_z)`, `r_t = σ_r(x W_r + h U_r + b_r)`,
 * `h̃_t = a(x W_h + (r_t ⊙ h) U_h + b_h)`, `h_t = z_t ⊙ h + (1 - z_t) ⊙ h̃_t` (see `gru_variational.ts`).
 * @example
 * ```ts
 * const model = tf.sequential({ layers: [
 *   layers.gruReparam({ units: 16, inputShape: [20, 3] }),
 *   layers.denseReparam({ outChannels: 1 }),
 * ] });
 * ```
 */
export const GRUReparam = reparam.gru;
/** GRU layer with local reparameterization of the gate pre-activations (fresh noise every step). */
export const GRULocalReparam = local.gru;
/** GRU layer with Flipout (one perturbation per call; signs per example fixed over time). */
export const GRUFlipout = flipout.gru;
/** Instance types of the GRU classes. */
export type GRUReparam = GRUVariational;
export type GRULocalReparam = GRUVariational;
export type GRUFlipout = GRUVariational;
/** Factory of {@link GRUReparam}. */
export const gruReparam = (args: GRUVariationalArgs): GRUVariational => new reparam.gru(args);
/** Factory of {@link GRULocalReparam}. */
export const gruLocalReparam = (args: GRUVariationalArgs): GRUVariational => new local.gru(args);
/** Factory of {@link GRUFlipout}. */
export const gruFlipout = (args: GRUVariationalArgs): GRUVariational => new flipout.gru(args);

/**
 * SimpleRNN layer with reparameterized weights: one sample of `K = [W; U]` `[in + units, units]`
 * and bias per forward pass, shared by every step; `h_t = a(x_t W + h_{t-1} U + b)`.
 */
export const SimpleRNNReparam = reparam.simpleRnn;
/** SimpleRNN layer with local reparameterization of the pre-activations (fresh noise every step). */
export const SimpleRNNLocalReparam = local.simpleRnn;
/** SimpleRNN layer with Flipout (one perturbation per call; signs per example fixed over time). */
export const SimpleRNNFlipout = flipout.simpleRnn;
/** Instance types of the SimpleRNN classes. */
export type SimpleRNNReparam = SimpleRNNVariational;
export type SimpleRNNLocalReparam = SimpleRNNVariational;
export type SimpleRNNFlipout = SimpleRNNVariational;
/** Factory of {@link SimpleRNNReparam}. */
export const simpleRnnReparam = (args: SimpleRNNVariationalArgs): SimpleRNNVariational =>
  new reparam.simpleRnn(args);
/** Factory of {@link SimpleRNNLocalReparam}. */
export const simpleRnnLocalReparam = (args: SimpleRNNVariationalArgs): SimpleRNNVariational =>
  new local.simpleRnn(args);
/** Factory of {@link SimpleRNNFlipout}. */
export const simpleRnnFlipout = (args: SimpleRNNVariationalArgs): SimpleRNNVariational =>
  new flipout.simpleRnn(args);

/**
 * Conv3D layer with reparameterized weights (TFP's `Convolution3DReparameterization`),
 * `y = conv3d(x, W) + b` on `[batch, depth, height, width, channels]` (videos, volumes): per
 * output position `E[y] = conv3d(x, mu) + mu_b`, `Var[y] = conv3d(x^2, sigma^2) + sigma_b^2`.
 * @example
 * ```ts
 * const c = layers.conv3dReparam({ filters: 8, kernelSize: 3, padding: 'same', inputShape: [8, 16, 16, 1] });
 * ```
 */
export const Conv3DReparam = ESTIMATOR_CLASSES.reparam.conv3d;
/** Conv3D layer with the local reparameterization trick (`eps` per example and position). */
export const Conv3DLocalReparam = ESTIMATOR_CLASSES.local.conv3d;
/** Conv3D layer with Flipout (TFP's `Convolution3DFlipout`; signs per example and channel). */
export const Conv3DFlipout = ESTIMATOR_CLASSES.flipout.conv3d;
/** Instance types of the Conv3D classes. */
export type Conv3DReparam = Conv3DVariational;
export type Conv3DLocalReparam = Conv3DVariational;
export type Conv3DFlipout = Conv3DVariational;
/** Factory of {@link Conv3DReparam}. */
export const conv3dReparam = (args: Conv3DVariationalArgs): Conv3DVariational =>
  new ESTIMATOR_CLASSES.reparam.conv3d(args);
/** Factory of {@link Conv3DLocalReparam}. */
export const conv3dLocalReparam = (args: Conv3DVariationalArgs): Conv3DVariational =>
  new ESTIMATOR_CLASSES.local.conv3d(args);
/** Factory of {@link Conv3DFlipout}. */
export const conv3dFlipout = (args: Conv3DVariationalArgs): Conv3DVariational =>
  new ESTIMATOR_CLASSES.flipout.conv3d(args);

/**
 * Conv3DTranspose layer with reparameterized weights, `y = conv3dTranspose(x, W) + b` (kernel
 * `[kd, kh, kw, filters, inChannels]`, output `L s` with `'same'`, `L s + max(k - s, 0)` with
 * `'valid'` per spatial axis): the Bayesian upsampling layer of volumetric decoders.
 */
export const Conv3DTransposeReparam = ESTIMATOR_CLASSES.reparam.conv3dTranspose;
/** Conv3DTranspose layer with the local reparameterization trick. */
export const Conv3DTransposeLocalReparam = ESTIMATOR_CLASSES.local.conv3dTranspose;
/** Conv3DTranspose layer with Flipout. */
export const Conv3DTransposeFlipout = ESTIMATOR_CLASSES.flipout.conv3dTranspose;
/** Instance types of the Conv3DTranspose classes. */
export type Conv3DTransposeReparam = Conv3DTransposeVariational;
export type Conv3DTransposeLocalReparam = Conv3DTransposeVariational;
export type Conv3DTransposeFlipout = Conv3DTransposeVariational;
/** Factory of {@link Conv3DTransposeReparam}. */
export const conv3dTransposeReparam = (
  args: Conv3DTransposeVariationalArgs,
): Conv3DTransposeVariational => new ESTIMATOR_CLASSES.reparam.conv3dTranspose(args);
/** Factory of {@link Conv3DTransposeLocalReparam}. */
export const conv3dTransposeLocalReparam = (
  args: Conv3DTransposeVariationalArgs,
): Conv3DTransposeVariational => new ESTIMATOR_CLASSES.local.conv3dTranspose(args);
/** Factory of {@link Conv3DTransposeFlipout}. */
export const conv3dTransposeFlipout = (
  args: Conv3DTransposeVariationalArgs,
): Conv3DTransposeVariational => new ESTIMATOR_CLASSES.flipout.conv3dTranspose(args);
