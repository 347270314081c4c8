/**
 * The part every Bayesian convolution shares, whatever its rank (the Conv2D kind and its
 * Conv1D / Conv2DTranspose subclasses, the Conv3D kind and Conv3DTranspose): inputs of rank
 * `r = n + 2` (`n` spatial axes) in either data format, run channels-last (`conv_format.ts`):
 *
 * $$y = P_{\text{first}}\big(\mathrm{op}(P_{\text{last}}\,x, W)\big)\ (\text{channelsFirst}),
 *   \qquad y = \mathrm{op}(x, W)\ (\text{channelsLast}),$$
 *
 * the channel count read from axis 1 or `r - 1`, the output shape computed on the channels-last
 * shape by the kind (`lastOutputShape`) and checked before every call (an input too small for
 * the kernel is refused naming `inputs`).
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { BayesianLayer } from './bayesian_layer.js';
import {
  channelAxis,
  fromChannelsLast,
  shapeFromChannelsLast,
  shapeToChannelsLast,
  toChannelsLast,
  type DataFormat,
} from './conv_format.js';

/** The spatial axes of a rank-`n` convolution, by name and letter (`[depth,] height, width`). */
const SPATIAL = [
  ['depth', 'D'],
  ['height', 'H'],
  ['width', 'W'],
] as const;

/**
 * The layouts a convolution of input rank `rank` (4: NHWC / NCHW, 5: NDHWC / NCDHW) names when
 * it refuses an input, e.g. `'NHWC inputs of shape [batch, height, width, inChannels]'`.
 */
export function inputLayout(rank: number, format: DataFormat): string {
  const axes = SPATIAL.slice(SPATIAL.length - (rank - 2));
  const letters = axes.map(([, l]) => l).join('');
  const names = axes.map(([n]) => n).join(', ');
  return format === 'channelsFirst'
    ? `NC${letters} inputs of shape [batch, inChannels, ${names}]`
    : `N${letters}C inputs of shape [batch, ${names}, inChannels]`;
}

/**
 * Output length of a convolution along one axis (null when the input length is unknown), as
 * TF.js: with `k` the kernel, `s` the stride, `d` the dilation and `p_0, p_1` explicit pads,
 *
 * $$L' = \lceil L / s\rceil\ (\text{same}),\qquad
 *   L' = \lfloor (L + p_0 + p_1 - (k - 1)d - 1) / s\rfloor + 1\ (\text{valid}, \text{pad};
 *   p_0 = p_1 = 0\ \text{for valid}).$$
 */
export function convLength(
  n: number | null,
  k: number,
  s: number,
  d: number,
  mode: 'same' | 'valid' | 'pad',
  before = 0,
  after = 0,
): number | null {
  if (n === null) return null;
  const eff = (k - 1) * d + 1;
  if (mode === 'same') return Math.ceil(n / s);
  const padded = mode === 'pad' ? n + before + after : n;
  return Math.floor((padded - eff) / s) + 1;
}

/**
 * The arguments object of a convolution's constructor, checked to be an object.
 * @throws ArgumentError naming `args` otherwise.
 */
export function checkConvArgsObject<T>(a: T): T {
  if (a === null || typeof a !== 'object') {
    throw new ArgumentError(
      'args',
      'expected an object with at least filters (or outChannels) and kernelSize',
    );
  }
  return a;
}

/**
 * Refuse a dilation other than 1 (`dilation` or `dilationRate`) for a transposed convolution,
 * which has none (as TF.js's `op`).
 * @throws ArgumentError naming the argument.
 */
export function refuseTransposeDilation(raw: Record<string, unknown>, op: string): void {
  for (const key of ['dilation', 'dilationRate'] as const) {
    const d = raw[key];
    const ones = d === undefined || d === 1 || (Array.isArray(d) && d.every((v) => v === 1));
    if (!ones) {
      throw new ArgumentError(
        key,
        `a transposed convolution has no dilation (as TF.js's ${op}), got ${JSON.stringify(d)}`,
      );
    }
  }
}

/** A Bayesian convolution of any rank (see the module docs); the kinds give the op and shapes. */
export abstract class ConvLayerBase extends BayesianLayer {
  /** `'channelsLast'` or `'channelsFirst'` (transposed around the convolution). */
  abstract readonly dataFormat: DataFormat;

  /** The rank of an input (`2 + ` the number of spatial axes). */
  protected abstract get inputRank(): number;

  /** The output shape of a channels-last input shape (the kinds override this one). */
  protected abstract lastOutputShape(shape: tf.Shape): tf.Shape;

  /**
   * The channel count of an input shape of rank `rank`.
   * @throws ArgumentError naming `inputs`, saying the layer expects `layout`, for another rank or
   *   an unknown channel count.
   */
  protected channelsOfRank(inputShape: tf.Shape | number[], rank: number, layout: string): number {
    const c = inputShape[channelAxis(this.dataFormat, rank)];
    if (inputShape.length !== rank || c === null || c === undefined) {
      throw new ArgumentError(
        'inputs',
        `layer '${this.name}' expects ${layout}, ` +
          `got [${inputShape.map((d) => (d === null ? 'null' : d)).join(', ')}]`,
      );
    }
    return c;
  }

  protected channelsOf(inputShape: tf.Shape | number[]): number {
    const rank = this.inputRank;
    return this.channelsOfRank(inputShape, rank, inputLayout(rank, this.dataFormat));
  }

  /** A `dataFormat` input as channels-last (the input itself for `'channelsLast'`). */
  protected override prepareInput(x: tf.Tensor): tf.Tensor {
    return toChannelsLast(x, this.dataFormat);
  }

  /** A channels-last output back in `dataFormat`. */
  protected override restoreOutput(y: tf.Tensor, input: tf.Tensor): tf.Tensor {
    void input;
    return fromChannelsLast(y, this.dataFormat);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const last = this.lastOutputShape(shapeToChannelsLast(shape, this.dataFormat));
    return shapeFromChannelsLast(last, this.dataFormat);
  }

  protected override checkInput(x: tf.Tensor): void {
    super.checkInput(x);
    this.computeOutputShape(x.shape);
  }
}
