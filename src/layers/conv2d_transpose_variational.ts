/**
 * The Conv2DTranspose kind of Bayesian layer (NHWC, as TF.js's `conv2dTranspose` layer): the
 * transposed ("fractionally strided") convolution of decoders and segmentation heads,
 * `y = activation(conv2dTranspose(x, W) + b)` with `W ~ q(W)` of shape
 * `[kh, kw, outChannels, inChannels]` (the tfjs `conv2dTranspose` kernel layout, so a converted
 * `Conv2DTranspose` layer's kernel is the posterior mean as it is).
 *
 * A transposed convolution is the adjoint of a strided convolution: with `C_W` the matrix of
 * `conv2d(·, W)` from the `[H', W', out]` grid to the `[H, W, in]` grid, `conv2dTranspose(x, W) =
 * C_Wᵀ x`. It is linear in `x` and in `W`, so every estimator of the registry applies unchanged:
 * for one example `E[y] = conv2dTranspose(x, mu) + mu_b` and
 * `Var[y] = conv2dTranspose(x², σ²) + σ_b²` (local reparameterization samples that Gaussian,
 * Flipout's signs are per example and channel). Output size per spatial axis, as TF.js:
 *
 * $$L' = L s\ (\text{same}),\qquad L' = L s + \max(k - s, 0)\ (\text{valid}).$$
 *
 * Arguments as the Conv2D kind (TF.js's `filters`, `kernelSize`, `strides`, `padding: 'same' |
 * 'valid'`, `useBias`, or MindSpore's `outChannels`, `stride`, `padMode`, `hasBias`); dilation,
 * groups and explicit padding (`padMode: 'pad'`) are refused, as TF.js's layer has none of them;
 * `dataFormat: 'channelsFirst'` takes NCHW inputs (transposed around the op, as TF.js's layer).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkConvArgsObject, refuseTransposeDilation } from './conv_base.js';
import { ConvVariational, type ConvVariationalArgs } from './conv_variational.js';

/** Arguments of the Bayesian Conv2DTranspose layers (those of the Conv2D kind without dilation, groups or explicit pads). */
export type Conv2DTransposeVariationalArgs = Omit<
  ConvVariationalArgs,
  'dilation' | 'dilationRate' | 'group'
>;

/** Output length of a transposed convolution along one axis (TF.js's `deconvLength`). */
export function transposedLength(
  n: number | null,
  k: number,
  s: number,
  mode: 'same' | 'valid',
): number | null {
  if (n === null) return null;
  return mode === 'same' ? n * s : n * s + Math.max(k - s, 0);
}

/** Refuse what a transposed convolution cannot take, naming the argument. */
function checkTransposeArgs(a: Conv2DTransposeVariationalArgs): Conv2DTransposeVariationalArgs {
  const raw = checkConvArgsObject(a) as Record<string, unknown>;
  refuseTransposeDilation(raw, 'conv2dTranspose');
  if (raw.group !== undefined && raw.group !== 1) {
    throw new ArgumentError(
      'group',
      `a transposed convolution has no channel groups, got ${JSON.stringify(raw.group)}`,
    );
  }
  if (raw.padMode === 'pad') {
    throw new ArgumentError(
      'padMode',
      "expected 'same' or 'valid' for a transposed convolution (explicit padding is not supported)",
    );
  }
  return a;
}

/** Bayesian Conv2DTranspose layer; the concrete classes (one per estimator) are made in `bayesian_classes.ts`. */
export class Conv2DTransposeVariational extends ConvVariational {
  /**
   * @param tfjsOrMindSporeArgs see {@link Conv2DTransposeVariationalArgs}; a bias by default when
   *   written with `filters` (TF.js), none with `outChannels` (MindSpore), as the Conv2D kind.
   */
  constructor(tfjsOrMindSporeArgs: Conv2DTransposeVariationalArgs) {
    super(checkTransposeArgs(tfjsOrMindSporeArgs) as ConvVariationalArgs);
  }

  /** `'same'` or `'valid'` (the constructor refuses `'pad'`). */
  private get transposePad(): 'same' | 'valid' {
    return this.padMode === 'valid' ? 'valid' : 'same';
  }

  protected override kernelShape(inChannels: number): number[] {
    return [this.kernelSize[0], this.kernelSize[1], this.outChannels, inChannels];
  }

  protected override linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    const [b, h, w] = x.shape as [number, number, number, number];
    const pad = this.transposePad;
    const oh = transposedLength(h, this.kernelSize[0], this.stride[0], pad) as number;
    const ow = transposedLength(w, this.kernelSize[1], this.stride[1], pad) as number;
    return tf.conv2dTranspose(
      x as tf.Tensor4D,
      kernel as tf.Tensor4D,
      [b, oh, ow, this.outChannels],
      this.stride,
      pad,
    );
  }

  protected override lastOutputShape(shape: tf.Shape): tf.Shape {
    const pad = this.transposePad;
    const h = transposedLength(shape[1] ?? null, this.kernelSize[0], this.stride[0], pad);
    const w = transposedLength(shape[2] ?? null, this.kernelSize[1], this.stride[1], pad);
    return [shape[0] ?? null, h, w, this.outChannels];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config = super.getConfig();
    delete config.dilation;
    delete config.group;
    delete config.padding;
    return config;
  }
}
