/**
 * The MOPED twins of the Bayesian layer classes (Krishnan, Subedar & Tickoo 2020, "Specifying
 * Weight Priors in Bayesian Deep Neural Networks with Empirical Bayes"): the same layers with a
 * Normal prior centred on given (DNN) weights,
 *
 * $$p(w_i) = \mathcal N(w_i;\ w^{0}_i,\ \sigma_p^2),\qquad
 * \mathrm{KL}(q\,\|\,p) = \sum_i \log\frac{\sigma_p}{\sigma_i}
 *   + \frac{\sigma_i^2 + (\mu_i - w^{0}_i)^2}{2\sigma_p^2} - \frac12,$$
 *
 * with `centredPrior` always on (`sigma_p` is the scalar `priorSigma`; set the centres with
 * `setPriorMean`). Made for every estimator of the registry in `bayesian_classes.ts`.
 */
import { BayesianLayer } from './bayesian_layer.js';
import { ESTIMATOR_CLASSES } from './bayesian_classes.js';
import type { Conv1DVariational } from './conv1d_variational.js';
import type { ConvVariational } from './conv_variational.js';
import type { Conv2DTransposeVariational } from './conv2d_transpose_variational.js';
import type { DenseVariational } from './dense_variational.js';
import type { GRUVariational } from './gru_variational.js';
import type { LSTMVariational } from './lstm_variational.js';
import type { SimpleRNNVariational } from './simple_rnn_variational.js';
import type { Conv3DVariational } from './conv3d_variational.js';
import type { Conv3DTransposeVariational } from './conv3d_transpose_variational.js';

const { reparam, local, flipout } = ESTIMATOR_CLASSES;

/**
 * `DenseReparam` with a prior centred on DNN weights.
 * @example
 * ```ts
 * const l = new MopedDenseReparam({ outChannels: 10, priorSigma: 0.1 });
 * // after build: l.setPriorMean(dense.getWeights()[0], dense.getWeights()[1]);
 * ```
 */
export const MopedDenseReparam = reparam.mopedDense;
/** `DenseLocalReparam` with a prior centred on DNN weights. */
export const MopedDenseLocalReparam = local.mopedDense;
/** `DenseFlipout` with a prior centred on DNN weights. */
export const MopedDenseFlipout = flipout.mopedDense;
/** `ConvReparam` with a prior centred on DNN weights. */
export const MopedConvReparam = reparam.mopedConv;
/** `ConvLocalReparam` with a prior centred on DNN weights. */
export const MopedConvLocalReparam = local.mopedConv;
/** `ConvFlipout` with a prior centred on DNN weights. */
export const MopedConvFlipout = flipout.mopedConv;

/** `Conv1DReparam` with a prior centred on DNN weights. */
export const MopedConv1DReparam = reparam.mopedConv1d;
/** `Conv1DLocalReparam` with a prior centred on DNN weights. */
export const MopedConv1DLocalReparam = local.mopedConv1d;
/** `Conv1DFlipout` with a prior centred on DNN weights. */
export const MopedConv1DFlipout = flipout.mopedConv1d;

/** `Conv2DTransposeReparam` with a prior centred on DNN weights. */
export const MopedConv2DTransposeReparam = reparam.mopedConv2dTranspose;
/** `Conv2DTransposeLocalReparam` with a prior centred on DNN weights. */
export const MopedConv2DTransposeLocalReparam = local.mopedConv2dTranspose;
/** `Conv2DTransposeFlipout` with a prior centred on DNN weights. */
export const MopedConv2DTransposeFlipout = flipout.mopedConv2dTranspose;

/** Instance types of the MOPED classes. */
export type MopedDenseReparam = DenseVariational;
export type MopedDenseLocalReparam = DenseVariational;
export type MopedDenseFlipout = DenseVariational;
export type MopedConvReparam = ConvVariational;
export type MopedConvLocalReparam = ConvVariational;
export type MopedConvFlipout = ConvVariational;
export type MopedConv1DReparam = Conv1DVariational;
export type MopedConv1DLocalReparam = Conv1DVariational;
export type MopedConv1DFlipout = Conv1DVariational;
export type MopedConv2DTransposeReparam = Conv2DTransposeVariational;
export type MopedConv2DTransposeLocalReparam = Conv2DTransposeVariational;
export type MopedConv2DTransposeFlipout = Conv2DTransposeVariational;

/** A Bayesian layer with a prior centred on given weights (`centredPrior` on). */
export interface CentredPriorLayer extends BayesianLayer {
  readonly centredPrior: true;
}

/** True when `layer` is a Bayesian layer with a prior centred on given (DNN) weights. */
export function isCentredPriorLayer(layer: unknown): layer is CentredPriorLayer {
  return layer instanceof BayesianLayer && layer.centredPrior;
}

/** `LSTMReparam` with a prior centred on DNN weights (kernel `[W; U]`, bias `[4 units]`). */
export const MopedLSTMReparam = reparam.mopedLstm;
/** `LSTMLocalReparam` with a prior centred on DNN weights. */
export const MopedLSTMLocalReparam = local.mopedLstm;
/** `LSTMFlipout` with a prior centred on DNN weights. */
export const MopedLSTMFlipout = flipout.mopedLstm;
/** Instance types of the MOPED LSTM classes. */
export type MopedLSTMReparam = LSTMVariational;
export type MopedLSTMLocalReparam = LSTMVariational;
export type MopedLSTMFlipout = LSTMVariational;

/** `GRUReparam` with a prior centred on DNN weights (kernel `[W; U]`, bias `[3 units]`). */
export const MopedGRUReparam = reparam.mopedGru;
/** `GRULocalReparam` with a prior centred on DNN weights. */
export const MopedGRULocalReparam = local.mopedGru;
/** `GRUFlipout` with a prior centred on DNN weights. */
export const MopedGRUFlipout = flipout.mopedGru;
/** Instance types of the MOPED GRU classes. */
export type MopedGRUReparam = GRUVariational;
export type MopedGRULocalReparam = GRUVariational;
export type MopedGRUFlipout = GRUVariational;

/** `SimpleRNNReparam` with a prior centred on DNN weights (kernel `[W; U]`, bias `[units]`). */
export const MopedSimpleRNNReparam = reparam.mopedSimpleRnn;
/** `SimpleRNNLocalReparam` with a prior centred on DNN weights. */
export const MopedSimpleRNNLocalReparam = local.mopedSimpleRnn;
/** `SimpleRNNFlipout` with a prior centred on DNN weights. */
export const MopedSimpleRNNFlipout = flipout.mopedSimpleRnn;
/** Instance types of the MOPED SimpleRNN classes. */
export type MopedSimpleRNNReparam = SimpleRNNVariational;
export type MopedSimpleRNNLocalReparam = SimpleRNNVariational;
export type MopedSimpleRNNFlipout = SimpleRNNVariational;

/** `Conv3DReparam` with a prior centred on DNN weights (kernel `[kd, kh, kw, in, out]`). */
export const MopedConv3DReparam = ESTIMATOR_CLASSES.reparam.mopedConv3d;
/** `Conv3DLocalReparam` with a prior centred on DNN weights. */
export const MopedConv3DLocalReparam = ESTIMATOR_CLASSES.local.mopedConv3d;
/** `Conv3DFlipout` with a prior centred on DNN weights. */
export const MopedConv3DFlipout = ESTIMATOR_CLASSES.flipout.mopedConv3d;
/** Instance types of the MOPED Conv3D classes. */
export type MopedConv3DReparam = Conv3DVariational;
export type MopedConv3DLocalReparam = Conv3DVariational;
export type MopedConv3DFlipout = Conv3DVariational;

/** `Conv3DTransposeReparam` with a prior centred on DNN weights (kernel `[kd, kh, kw, out, in]`). */
export const MopedConv3DTransposeReparam = ESTIMATOR_CLASSES.reparam.mopedConv3dTranspose;
/** `Conv3DTransposeLocalReparam` with a prior centred on DNN weights. */
export const MopedConv3DTransposeLocalReparam = ESTIMATOR_CLASSES.local.mopedConv3dTranspose;
/** `Conv3DTransposeFlipout` with a prior centred on DNN weights. */
export const MopedConv3DTransposeFlipout = ESTIMATOR_CLASSES.flipout.mopedConv3dTranspose;
/** Instance types of the MOPED Conv3DTranspose classes. */
export type MopedConv3DTransposeReparam = Conv3DTransposeVariational;
export type MopedConv3DTransposeLocalReparam = Conv3DTransposeVariational;
export type MopedConv3DTransposeFlipout = Conv3DTransposeVariational;
