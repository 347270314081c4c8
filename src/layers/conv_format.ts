/**
 * The data format of the Bayesian convolutions (TF.js's `dataFormat`): `'channelsLast'` inputs
 * `[batch, ...spatial, channels]` (NWC, NHWC, NDHWC) or `'channelsFirst'` inputs
 * `[batch, channels, ...spatial]` (NCW, NCHW, NCDHW). The convolutions run channels-last (the
 * layout every tfjs backend implements, as tfjs's own layers do): a channels-first input is
 * transposed by the permutation
 *
 * $$P_{\text{last}} = (0, 2, 3, \dots, r - 1, 1),\qquad
 *   P_{\text{first}} = P_{\text{last}}^{-1} = (0, r - 1, 1, 2, \dots, r - 2),$$
 *
 * the convolution and bias run on it, and the output is transposed back by `P_first`. Both are
 * permutations, so `E[y]`, `Var[y]` and every estimator's draw are those of the channels-last
 * layer, moved to their channels-first positions.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/** TF.js's data formats of a convolution. */
export type DataFormat = 'channelsLast' | 'channelsFirst';

/**
 * `v` as a {@link DataFormat} (undefined: `'channelsLast'`).
 * @throws ArgumentError naming `dataFormat` for any other value.
 */
export function checkDataFormat(v: unknown): DataFormat {
  if (v === undefined || v === null) return 'channelsLast';
  if (v !== 'channelsLast' && v !== 'channelsFirst') {
    throw new ArgumentError(
      'dataFormat',
      `expected 'channelsLast' or 'channelsFirst', got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** `P_last` of rank `r`: `(0, 2, ..., r - 1, 1)`. */
function toLastPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

/** `P_first` of rank `r`: `(0, r - 1, 1, ..., r - 2)`. */
function toFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** The channel axis of a rank-`rank` input in `format`. */
export function channelAxis(format: DataFormat, rank: number): number {
  return format === 'channelsFirst' ? 1 : rank - 1;
}

/** A `format` tensor as channels-last (the tensor itself when it already is). */
export function toChannelsLast(x: tf.Tensor, format: DataFormat): tf.Tensor {
  return format === 'channelsFirst' ? tf.transpose(x, toLastPerm(x.rank)) : x;
}

/** A channels-last tensor in `format` (the tensor itself for `'channelsLast'`). */
export function fromChannelsLast(y: tf.Tensor, format: DataFormat): tf.Tensor {
  return format === 'channelsFirst' ? tf.transpose(y, toFirstPerm(y.rank)) : y;
}

/** A `format` shape as the channels-last shape. */
export function shapeToChannelsLast<T>(shape: readonly T[], format: DataFormat): T[] {
  return format === 'channelsFirst'
    ? toLastPerm(shape.length).map((i) => shape[i] as T)
    : [...shape];
}

/** A channels-last shape in `format`. */
export function shapeFromChannelsLast<T>(shape: readonly T[], format: DataFormat): T[] {
  return format === 'channelsFirst'
    ? toFirstPerm(shape.length).map((i) => shape[i] as T)
    : [...shape];
}
