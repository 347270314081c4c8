/**
 * The Conv2D kind of Bayesian layer (NHWC, as TF.js): `y = activation(conv2d(x, W) + b)` with
 * `W ~ q(W)` of shape `[kh, kw, inChannels / group, outChannels]` (the tfjs `conv2d` kernel layout).
 *
 * MindSpore's arguments: `padMode` `'same'` (output `ceil(H / stride)`, extra padding at the
 * bottom/right), `'valid'` (no padding) or `'pad'` (explicit `padding`, a number or
 * `[top, bottom, left, right]`); `dilation`; `group` > 1 splits the channels into `group`
 * independent convolutions (output channels `[g * out/group, (g+1) * out/group)` see input
 * channels `[g * in/group, (g+1) * in/group)`; a depthwise convolution when `group = inChannels`).
 * Dilation is applied by spreading the kernel taps ({@link dilateKernel}), since tfjs has no
 * conv2d gradient for dilation > 1; any stride and dilation combine. `dataFormat: 'channelsFirst'`
 * takes NCHW inputs, transposed to NHWC around the convolution and back (`conv_format.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { BayesianLayerArgs } from './bayesian_layer.js';
import { ConvLayerBase, convLength } from './conv_base.js';
import { checkDataFormat, type DataFormat } from './conv_format.js';
import { fromTfjsArgs, type TfjsConvArgs } from './tfjs_args.js';

/** MindSpore's padding modes. */
export type PadMode = 'same' | 'valid' | 'pad';

/**
 * Arguments of the Bayesian Conv2D layers: TF.js's (`filters`, `kernelSize`, `strides`,
 * `padding: 'same' | 'valid'`, `dilationRate`, `useBias`, ...) or MindSpore's `ConvReparam` names.
 */
export interface ConvVariationalArgs extends BayesianLayerArgs, TfjsConvArgs {
  /** Kernel height and width (a number for a square kernel). Required. */
  kernelSize: number | readonly number[];
  /** Stride (height, width). Default 1. */
  stride?: number | readonly number[];
  /**
   * `'same'`, `'valid'` or `'pad'` (MindSpore's name of TF.js's `padding` modes). Default
   * `'valid'` with `filters` (TF.js), `'same'` with `outChannels` (MindSpore).
   */
  padMode?: PadMode;
  /**
   * TF.js's `'same'` or `'valid'`; or MindSpore's explicit padding for `padMode: 'pad'`, a number or
   * `[top, bottom, left, right]` (default 0).
   */
  padding?: 'same' | 'valid' | number | readonly number[];
  /** Dilation (height, width). Default 1. */
  dilation?: number | readonly number[];
  /** Number of channel groups; must divide `inChannels` and `outChannels`. Default 1. */
  group?: number;
}

function intPair(
  v: number | readonly number[] | undefined,
  dflt: number,
  name: string,
  min: number,
): [number, number] {
  const arr = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [...v];
  if (arr.length !== 2 || arr.some((d) => !Number.isInteger(d) || d < min)) {
    throw new ArgumentError(
      name,
      `expected an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`,
    );
  }
  return [arr[0] as number, arr[1] as number];
}

function padQuad(v: number | readonly number[] | undefined): [number, number, number, number] {
  const arr = v === undefined ? [0, 0, 0, 0] : typeof v === 'number' ? [v, v, v, v] : [...v];
  if (arr.length !== 4 || arr.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ArgumentError(
      'padding',
      `expected an integer >= 0 or [top, bottom, left, right], got ${JSON.stringify(v)}`,
    );
  }
  return arr as [number, number, number, number];
}

/**
 * The kernel of a dilated convolution as an ordinary kernel: zeros between the taps,
 * `[kh, kw, i, o] -> [(kh-1)dh+1, (kw-1)dw+1, i, o]`. tfjs has no conv2d gradient for dilation
 * > 1 (and cannot stride and dilate at once); pad, reshape and slice have gradients.
 */
export function dilateKernel(kernel: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  if (dh === 1 && dw === 1) return kernel;
  const [kh, kw, ci, co] = kernel.shape;
  const k6 = tf.reshape(kernel, [kh, 1, kw, 1, ci, co]);
  const padded = tf.pad(k6, [
    [0, 0],
    [0, dh - 1],
    [0, 0],
    [0, dw - 1],
    [0, 0],
    [0, 0],
  ]);
  const flat = tf.reshape(padded, [kh * dh, kw * dw, ci, co]);
  return tf.slice(
    flat,
    [0, 0, 0, 0],
    [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co],
  ) as tf.Tensor4D;
}

/** Bayesian Conv2D layer; the concrete classes (one per registered estimator) are made in `bayesian_classes.ts`. */
export class ConvVariational extends ConvLayerBase {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padMode: PadMode;
  readonly padding: [number, number, number, number];
  readonly dilation: [number, number];
  readonly group: number;
  /** `'channelsLast'` (NHWC) or `'channelsFirst'` (NCHW, transposed around the convolution). */
  readonly dataFormat: DataFormat;

  /**
   * @param tfjsOrMindSporeArgs see {@link ConvVariationalArgs}; a bias by default when written with `filters`
   *   (TF.js), none when written with `outChannels` (MindSpore).
   */
  constructor(tfjsOrMindSporeArgs: ConvVariationalArgs) {
    const { args, defaultHasBias } = fromTfjsArgs(tfjsOrMindSporeArgs, 'conv');
    super(args, defaultHasBias);
    this.dataFormat = checkDataFormat(args.dataFormat);
    if (args.kernelSize === undefined) {
      throw new ArgumentError('kernelSize', 'is required (a number or [height, width])');
    }
    this.kernelSize = intPair(args.kernelSize, 1, 'kernelSize', 1);
    // errors name the argument as the user spelled it (TF.js's strides / dilationRate or
    // MindSpore's stride / dilation)
    const raw = tfjsOrMindSporeArgs as unknown as Record<string, unknown>;
    const spelled = (tfName: string, msName: string) =>
      raw[tfName] !== undefined ? tfName : msName;
    this.stride = intPair(args.stride, 1, spelled('strides', 'stride'), 1);
    this.dilation = intPair(args.dilation, 1, spelled('dilationRate', 'dilation'), 1);
    const padMode = args.padMode ?? 'same';
    if (padMode !== 'same' && padMode !== 'valid' && padMode !== 'pad') {
      throw new ArgumentError(
        'padMode',
        `expected 'same', 'valid' or 'pad', got '${String(padMode)}'`,
      );
    }
    this.padMode = padMode;
    this.padding = padQuad(args.padding as number | readonly number[] | undefined);
    if (padMode !== 'pad' && this.padding.some((p) => p !== 0)) {
      throw new ArgumentError(
        'padding',
        `must be 0 unless padMode is 'pad' (padMode '${padMode}', padding ${JSON.stringify(args.padding)})`,
      );
    }
    const group = args.group ?? 1;
    if (!Number.isInteger(group) || group < 1) {
      throw new ArgumentError('group', `expected an integer >= 1, got ${String(group)}`);
    }
    this.group = group;
    if (this.outChannels % group !== 0) {
      throw new ArgumentError(
        'group',
        `must divide outChannels (${this.outChannels}), got group=${group}`,
      );
    }
    if (this.inChannels !== null) this.checkGroup(this.inChannels);
  }

  private checkGroup(inChannels: number): void {
    if (inChannels % this.group !== 0) {
      throw new ArgumentError(
        'group',
        `must divide inChannels (${inChannels}), got group=${this.group}`,
      );
    }
  }

  protected get inputRank(): number {
    return 4;
  }

  protected kernelShape(inChannels: number): number[] {
    this.checkGroup(inChannels);
    return [this.kernelSize[0], this.kernelSize[1], inChannels / this.group, this.outChannels];
  }

  protected linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    const x4 = x as tf.Tensor4D;
    const k = dilateKernel(kernel as tf.Tensor4D, this.dilation[0], this.dilation[1]);
    if (this.group === 1) return tf.conv2d(x4, k, this.stride, this.padArg());
    const inC = x.shape[3] as number;
    if (this.group === inC) {
      // one group per input channel: a depthwise convolution with multiplier out/in; output
      // channel o = c * multiplier + m, which is the order of the grouped kernel's last axis.
      const [kh, kw] = k.shape;
      const filter = tf.reshape(k, [kh, kw, inC, this.outChannels / inC]) as tf.Tensor4D;
      return tf.depthwiseConv2d(x4, filter, this.stride, this.padArg());
    }
    const xs = tf.split(x4, this.group, 3);
    const ks = tf.split(k, this.group, 3);
    return tf.concat(
      xs.map((xi, g) =>
        tf.conv2d(xi as tf.Tensor4D, ks[g] as tf.Tensor4D, this.stride, this.padArg()),
      ),
      3,
    );
  }

  /** The tfjs padding argument: `'same'`, `'valid'` or explicit NHWC pads for `'pad'`. */
  private padArg():
    'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
    if (this.padMode !== 'pad') return this.padMode;
    const [t, b, l, r] = this.padding;
    return [
      [0, 0],
      [t, b],
      [l, r],
      [0, 0],
    ];
  }

  /** The output shape of a channels-last input shape (the kinds override this one). */
  protected lastOutputShape(shape: tf.Shape): tf.Shape {
    const [t, b, l, r] = this.padding;
    const h = convLength(
      shape[1] ?? null,
      this.kernelSize[0],
      this.stride[0],
      this.dilation[0],
      this.padMode,
      t,
      b,
    );
    const w = convLength(
      shape[2] ?? null,
      this.kernelSize[1],
      this.stride[1],
      this.dilation[1],
      this.padMode,
      l,
      r,
    );
    if ((h !== null && h < 1) || (w !== null && w < 1)) {
      throw new ArgumentError(
        'inputs',
        `layer '${this.name}': input [${shape.map((d) => (d === null ? 'null' : d)).join(', ')}] is too small for kernelSize ` +
          `[${this.kernelSize.join(', ')}] with padMode '${this.padMode}'`,
      );
    }
    return [shape[0] ?? null, h, w, this.outChannels];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      kernelSize: [...this.kernelSize],
      stride: [...this.stride],
      padMode: this.padMode,
      padding: [...this.padding],
      dilation: [...this.dilation],
      group: this.group,
      // only when channels-first, so configs saved before the option are unchanged
      ...(this.dataFormat === 'channelsFirst' ? { dataFormat: this.dataFormat } : {}),
    };
  }
}
