/**
 * The Conv3DTranspose kind of Bayesian layer (NDHWC, as TF.js's `conv3dTranspose` layer): the
 * transposed 3-D convolution of volumetric decoders, `y = activation(conv3dTranspose(x, W) + b)`
 * with `W ~ q(W)` of shape `[kd, kh, kw, outChannels, inChannels]` (the tfjs `conv3dTranspose`
 * kernel layout, so a converted `Conv3DTranspose` layer's kernel is the posterior mean as it is).
 *
 * With `C_W` the matrix of `conv3d(·, W, s, pad)` from the `[D', H', W', out]` grid to the
 * `[D, H, W, in]` grid, `conv3dTranspose(x, W) = C_Wᵀ x`. It is linear in `x` and `W`, so every
 * estimator applies unchanged: `E[y] = conv3dTranspose(x, mu) + mu_b`,
 * `Var[y] = conv3dTranspose(x², σ²) + σ_b²`. Output length per spatial axis, as TF.js:
 *
 * $$L' = L s\ (\text{same}),\qquad L' = L s + \max(k - s, 0)\ (\text{valid}).$$
 *
 * tfjs 4.22 registers no gradient for `Conv3DBackpropInputV2` (the kernel of `conv3dTranspose`),
 * so the op here carries its own ({@link conv3dTransposeWithGrad}): for an upstream gradient `g`
 * of the output, `∂/∂x = conv3d(g, W, s, pad)` (`C_W g`) and
 * `∂/∂W = Conv3DBackpropFilterV2(g, x)` (the filter gradient of `⟨conv3d(g, W), x⟩`).
 * Arguments as the Conv3D kind without dilation or groups (TF.js's layer has neither).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkConvArgsObject, refuseTransposeDilation } from './conv_base.js';
import { Conv3DVariational, type Conv3DVariationalArgs } from './conv3d_variational.js';
import { transposedLength } from './conv2d_transpose_variational.js';

/** Arguments of the Bayesian Conv3DTranspose layers (those of the Conv3D kind without dilation). */
export type Conv3DTransposeVariationalArgs = Omit<
  Conv3DVariationalArgs,
  'dilation' | 'dilationRate'
>;

/**
 * `conv3dTranspose(x, w, outShape, strides, pad)` with gradients in `x` and `w` (tfjs 4.22 has
 * none): `dx = conv3d(dy, w, strides, pad)`, `dw = Conv3DBackpropFilterV2(x: dy, dy: x)`.
 * @param x input `[batch, d, h, w, inChannels]`.
 * @param w kernel `[kd, kh, kw, outChannels, inChannels]`.
 * @param outShape the output shape `[batch, d', h', w', outChannels]`.
 * @param strides strides per spatial axis.
 * @param pad `'same'` or `'valid'`.
 */
export function conv3dTransposeWithGrad(
  x: tf.Tensor5D,
  w: tf.Tensor5D,
  outShape: [number, number, number, number, number],
  strides: [number, number, number],
  pad: 'same' | 'valid',
): tf.Tensor5D {
  checkTransposeOperands(x, w, outShape);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, ww, save] = args as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
    save([xx, ww]);
    return {
      value: tf.conv3dTranspose(xx, ww, outShape, strides, pad),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor5D, tf.Tensor5D];
        const g = dy as tf.Tensor5D;
        const dx = tf.conv3d(g, sw, strides, pad);
        const dw = tf
          .engine()
          .runKernel(
            'Conv3DBackpropFilterV2',
            { x: g, dy: sx },
            { strides, pad, filterShape: sw.shape },
          ) as tf.Tensor;
        return [dx, dw];
      },
    };
  });
  return op(x, w) as tf.Tensor5D;
}

/** Refuse operands of {@link conv3dTransposeWithGrad} that do not fit, naming them. */
function checkTransposeOperands(x: tf.Tensor, w: tf.Tensor, outShape: readonly number[]): void {
  if (!(x instanceof tf.Tensor) || x.rank !== 5) {
    throw new ArgumentError('x', `expected a rank-5 tensor [batch, d, h, w, inChannels]`);
  }
  if (!(w instanceof tf.Tensor) || w.rank !== 5 || w.shape[4] !== x.shape[4]) {
    throw new ArgumentError(
      'w',
      `expected a kernel [kd, kh, kw, outChannels, ${x.shape[4]}], got ` +
        (w instanceof tf.Tensor ? `[${w.shape.join(', ')}]` : String(w)),
    );
  }
  if (
    !Array.isArray(outShape) ||
    outShape.length !== 5 ||
    outShape[0] !== x.shape[0] ||
    outShape[4] !== w.shape[3]
  ) {
    throw new ArgumentError(
      'outShape',
      `expected [${x.shape[0]}, d', h', w', ${w.shape[3]}], got ${JSON.stringify(outShape)}`,
    );
  }
}

/** Refuse what a transposed 3-D convolution cannot take, naming the argument. */
function checkTransposeArgs(a: Conv3DTransposeVariationalArgs): Conv3DVariationalArgs {
  refuseTransposeDilation(checkConvArgsObject(a) as Record<string, unknown>, 'conv3dTranspose');
  return a as Conv3DVariationalArgs;
}

/** Bayesian Conv3DTranspose layer; the concrete classes (one per estimator) are made in `bayesian_classes.ts`. */
export class Conv3DTransposeVariational extends Conv3DVariational {
  /**
   * @param tfjsOrMindSporeArgs see {@link Conv3DTransposeVariationalArgs}; a bias by default when
   *   written with `filters` (TF.js), none with `outChannels` (MindSpore).
   */
  constructor(tfjsOrMindSporeArgs: Conv3DTransposeVariationalArgs) {
    super(checkTransposeArgs(tfjsOrMindSporeArgs));
  }

  protected override kernelShape(inChannels: number): number[] {
    return [...this.kernelSize, this.outChannels, inChannels];
  }

  protected override linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    const [b, d, h, w] = x.shape as [number, number, number, number, number];
    const len = (n: number, i: number): number =>
      transposedLength(
        n,
        this.kernelSize[i] as number,
        this.stride[i] as number,
        this.padMode,
      ) as number;
    return conv3dTransposeWithGrad(
      x as tf.Tensor5D,
      kernel as tf.Tensor5D,
      [b, len(d, 0), len(h, 1), len(w, 2), this.outChannels],
      this.stride,
      this.padMode,
    );
  }

  protected override lastOutputShape(shape: tf.Shape): tf.Shape {
    const spatial = [0, 1, 2].map((i) =>
      transposedLength(
        shape[i + 1] ?? null,
        this.kernelSize[i] as number,
        this.stride[i] as number,
        this.padMode,
      ),
    );
    return [shape[0] ?? null, ...spatial, this.outChannels];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config = super.getConfig();
    delete config.dilation;
    return config;
  }
}
