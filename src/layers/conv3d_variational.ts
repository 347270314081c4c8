/**
 * The Conv3D kind of Bayesian layer (volumes and videos, NDHWC as TF.js's `conv3d` layer; TFP's
 * `Convolution3DReparameterization` / `Convolution3DFlipout`): `y = activation(conv3d(x, W) + b)`
 * on inputs `[batch, depth, height, width, inChannels]`, with `W ~ q(W)` of shape
 * `[kd, kh, kw, inChannels, outChannels]` (the tfjs `conv3d` kernel layout, so a converted `Conv3D`
 * layer's kernel is the posterior mean as it is).
 *
 * The convolution is linear in `x` and in `W`, so every estimator of the registry applies
 * unchanged: at every output position, for one example,
 *
 * $$\mathbb E[y] = \mathrm{conv3d}(x, \mu) + \mu_b,\qquad
 *   \mathrm{Var}[y] = \mathrm{conv3d}(x^2, \sigma^2) + \sigma_b^2$$
 *
 * (local reparameterization samples that Gaussian; Flipout's signs are per example and channel).
 * Output length per spatial axis, as TF.js (`k` the kernel, `s` the stride, `d` the dilation):
 *
 * $$L' = \lceil L / s\rceil\ (\text{same}),\qquad
 *   L' = \lfloor (L - (k - 1)d - 1) / s\rfloor + 1\ (\text{valid}).$$
 *
 * Arguments: TF.js's `filters`, `kernelSize` (`k` or `[kd, kh, kw]`), `strides`, `padding:
 * 'same' | 'valid'`, `dilationRate`, `useBias`, `dataFormat` (`'channelsFirst'`: NCDHW inputs,
 * transposed around the convolution as TF.js's layer does), or MindSpore's `outChannels`,
 * `stride`, `padMode`, `dilation`, `hasBias`. Dilation spreads the kernel taps
 * ({@link dilateKernel3d}: tfjs has no conv3d gradient for dilation > 1), so any stride and
 * dilation combine. Channel groups and explicit padding are refused, as TF.js's layer has none.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { BayesianLayerArgs } from './bayesian_layer.js';
import { ConvLayerBase, checkConvArgsObject, convLength } from './conv_base.js';
import { checkDataFormat, type DataFormat } from './conv_format.js';
import { fromTfjsArgs, type TfjsConvArgs } from './tfjs_args.js';

/** Arguments of the Bayesian Conv3D layers (TF.js's `conv3d` names or MindSpore's). */
export interface Conv3DVariationalArgs extends BayesianLayerArgs, TfjsConvArgs {
  /** Kernel depth, height and width (a number for a cube). Required. */
  kernelSize: number | readonly number[];
  /** Stride (depth, height, width) (MindSpore's name of `strides`). Default 1. */
  stride?: number | readonly number[];
  /** Dilation (depth, height, width) (MindSpore's name of `dilationRate`). Default 1. */
  dilation?: number | readonly number[];
  /** `'same'` or `'valid'` (MindSpore's name of TF.js's `padding`). */
  padMode?: 'same' | 'valid';
  /**
   * TF.js's `'same'` or `'valid'`. Default `'valid'` with `filters` (TF.js), `'same'` with
   * `outChannels` (MindSpore).
   */
  padding?: 'same' | 'valid';
}

/** A number or `[d, h, w]` of integers `>= min` as a triple; throws naming `name`. */
export function intTriple(
  v: unknown,
  dflt: number,
  name: string,
  min: number,
): [number, number, number] {
  const arr =
    v === undefined || v === null
      ? [dflt, dflt, dflt]
      : typeof v === 'number'
        ? [v, v, v]
        : Array.isArray(v)
          ? v.length === 1
            ? [v[0], v[0], v[0]]
            : [...(v as unknown[])]
          : [];
  if (
    arr.length !== 3 ||
    arr.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < min)
  ) {
    throw new ArgumentError(
      name,
      `expected an integer >= ${min} or [depth, height, width] of them, got ${JSON.stringify(v)}`,
    );
  }
  return arr as [number, number, number];
}

/**
 * The kernel of a dilated 3-D convolution as an ordinary kernel: zeros between the taps,
 * `[kd, kh, kw, i, o] -> [(kd-1)dd+1, (kh-1)dh+1, (kw-1)dw+1, i, o]`, so that
 * `conv3d(x, dilate(W), s) = conv3d_d(x, W, s)` with gradients (pad, reshape and slice have them;
 * tfjs's conv3d has none for dilation > 1).
 * @param kernel a `[kd, kh, kw, i, o]` (or transposed `[kd, kh, kw, o, i]`) kernel.
 * @param dilation the dilation per spatial axis.
 */
export function dilateKernel3d(kernel: tf.Tensor5D, dilation: readonly number[]): tf.Tensor5D {
  const [dd = 1, dh = 1, dw = 1] = dilation;
  if (dd === 1 && dh === 1 && dw === 1) return kernel;
  return tf.tidy(() => {
    const [kd, kh, kw, ci, co] = kernel.shape;
    const k8 = tf.reshape(kernel, [kd, 1, kh, 1, kw, 1, ci * co]);
    const padded = tf.pad(k8, [
      [0, 0],
      [0, dd - 1],
      [0, 0],
      [0, dh - 1],
      [0, 0],
      [0, dw - 1],
      [0, 0],
    ]);
    const flat = tf.reshape(padded, [kd * dd, kh * dh, kw * dw, ci, co]);
    return tf.slice(
      flat,
      [0, 0, 0, 0, 0],
      [(kd - 1) * dd + 1, (kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co],
    ) as tf.Tensor5D;
  });
}

export { convLength } from './conv_base.js';

/** Refuse what a 3-D convolution cannot take (groups, explicit pads), naming the argument. */
function checkConv3dArgs<T extends object>(a: T): T {
  checkConvArgsObject(a);
  const raw = a as Record<string, unknown>;
  if (raw.group !== undefined && raw.group !== 1) {
    throw new ArgumentError(
      'group',
      `a Bayesian Conv3D has no channel groups (as TF.js's conv3d), got ${JSON.stringify(raw.group)}`,
    );
  }
  for (const key of ['padMode', 'padding'] as const) {
    const p = raw[key];
    if (p !== undefined && p !== 'same' && p !== 'valid') {
      throw new ArgumentError(
        key,
        `expected 'same' or 'valid' for a 3-D convolution, got ${JSON.stringify(p)}`,
      );
    }
  }
  return a;
}

/** Bayesian Conv3D layer; the concrete classes (one per estimator) are made in `bayesian_classes.ts`. */
export class Conv3DVariational extends ConvLayerBase {
  readonly kernelSize: [number, number, number];
  readonly stride: [number, number, number];
  readonly dilation: [number, number, number];
  readonly padMode: 'same' | 'valid';
  /** `'channelsLast'` (NDHWC) or `'channelsFirst'` (NCDHW, transposed around the convolution). */
  readonly dataFormat: DataFormat;

  /**
   * @param tfjsOrMindSporeArgs see {@link Conv3DVariationalArgs}; a bias by default when written
   *   with `filters` (TF.js), none with `outChannels` (MindSpore), as the 2-D kind.
   */
  constructor(tfjsOrMindSporeArgs: Conv3DVariationalArgs) {
    const { args, defaultHasBias } = fromTfjsArgs(checkConv3dArgs(tfjsOrMindSporeArgs), 'conv');
    super(args, defaultHasBias);
    if (args.kernelSize === undefined) {
      throw new ArgumentError('kernelSize', 'is required (a number or [depth, height, width])');
    }
    this.kernelSize = intTriple(args.kernelSize, 1, 'kernelSize', 1);
    const written = tfjsOrMindSporeArgs as unknown as Record<string, unknown>;
    const stride = written.strides !== undefined ? 'strides' : 'stride';
    this.stride = intTriple(args.stride, 1, stride, 1);
    const dilation = written.dilationRate !== undefined ? 'dilationRate' : 'dilation';
    this.dilation = intTriple(args.dilation, 1, dilation, 1);
    this.padMode = args.padMode === 'valid' ? 'valid' : 'same';
    this.dataFormat = checkDataFormat(args.dataFormat);
  }

  protected get inputRank(): number {
    return 5;
  }

  protected kernelShape(inChannels: number): number[] {
    return [...this.kernelSize, inChannels, this.outChannels];
  }

  protected linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    const k = dilateKernel3d(kernel as tf.Tensor5D, this.dilation);
    return tf.conv3d(x as tf.Tensor5D, k, this.stride, this.padMode);
  }

  /** The output shape of a channels-last input shape `[batch, d, h, w, c]`. */
  protected lastOutputShape(shape: tf.Shape): tf.Shape {
    const spatial = [0, 1, 2].map((i) =>
      convLength(
        shape[i + 1] ?? null,
        this.kernelSize[i] as number,
        this.stride[i] as number,
        this.dilation[i] as number,
        this.padMode,
      ),
    );
    if (spatial.some((n) => n !== null && n < 1)) {
      throw new ArgumentError(
        'inputs',
        `layer '${this.name}': input [${shape.map((d) => (d === null ? 'null' : d)).join(', ')}] is too small for kernelSize ` +
          `[${this.kernelSize.join(', ')}] with padding '${this.padMode}'`,
      );
    }
    return [shape[0] ?? null, ...spatial, this.outChannels];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      kernelSize: [...this.kernelSize],
      stride: [...this.stride],
      padMode: this.padMode,
      dilation: [...this.dilation],
      dataFormat: this.dataFormat,
    };
  }
}
