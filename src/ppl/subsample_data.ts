/**
 * Pyro's and NumPyro's `subsample(data, event_dim)`: the rows of a full data tensor that the
 * enclosing subsampled plates visit. For every active plate of `size` N visiting `B < N` members
 * (indices `i_1..i_B`) at dim `d < 0`, the axis `rank(data) + d - eventDim` of `data` is gathered:
 *
 * $$\text{out} = \text{data}[\ldots, i_{1..B}, \underbrace{:, \ldots, :}_{\text{eventDim}}]$$
 *
 * An axis of size 1, or one the data does not have, broadcasts over the plate and is left alone;
 * one already of size `B` is taken as already subsampled (as NumPyro). Outside any plate, or under
 * plates that visit every member, `data` is returned as is (a new handle, the caller's to free).
 *
 * `ppl.subsample` dispatches on its first argument: a tensor is this data form, a string the
 * plate's index site (`subsample(name, size, subsampleSize)`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { PlateMessenger } from './handlers/plate.js';
import { HANDLER_STACK, subsample as subsampleSite } from './runtime.js';

/**
 * The part of `data` visited by the enclosing subsampled plates (Pyro's/NumPyro's
 * `subsample(data, event_dim)`).
 *
 * @param data the full data, e.g. `[N, ...event]` for one plate of size N at dim -1.
 * @param eventDim how many rightmost dims of `data` form one event (not plate dims), an integer
 *   `>= 0`.
 * @returns `data` gathered at each subsampled plate's axis (a new tensor).
 * @throws ArgumentError naming `data` (a plate axis of a size other than 1, the plate's size or
 *   its subsample size) or `eventDim`.
 * @example
 * ```ts
 * ppl.plate('documents', 1000, { subsampleSize: 32 }, () => {
 *   const batch = ppl.subsample(docs, 1); // [32, V] rows of docs [1000, V]
 *   ...
 * });
 * ```
 */
export function subsampleData(data: tf.Tensor, eventDim: number): tf.Tensor {
  if (!(data instanceof tf.Tensor) || data.isDisposed) {
    throw new ArgumentError('data', `subsample: expected a live tensor, got ${String(data)}`);
  }
  if (!Number.isInteger(eventDim) || eventDim < 0) {
    throw new ArgumentError(
      'eventDim',
      `subsample: expected an integer >= 0, got ${String(eventDim)}`,
    );
  }
  const cuts: { axis: number; indices: tf.Tensor }[] = [];
  for (const h of HANDLER_STACK) {
    if (!(h instanceof PlateMessenger)) continue;
    const f = h.frame;
    const indices = h.subsampleIndices;
    if (f.subsampleSize === f.size || indices === null) continue;
    const axis = data.rank + f.dim - eventDim;
    if (axis < 0 || axis >= data.rank - eventDim) continue;
    const n = data.shape[axis] as number;
    if (n === 1 || n === f.subsampleSize) continue;
    if (n !== f.size) {
      throw new ArgumentError(
        'data',
        `subsample inside plate '${f.name}' (size ${f.size}, subsample ${f.subsampleSize} at ` +
          `dim ${f.dim}): the data's shape [${data.shape.join(',')}] has size ${n} at dim ` +
          `${f.dim - eventDim} (eventDim ${eventDim}); expected 1, ${f.size} or ${f.subsampleSize}`,
      );
    }
    cuts.push({ axis, indices });
  }
  return tf.tidy(() => cuts.reduce((x, c) => tf.gather(x, c.indices, c.axis), tf.clone(data)));
}

/**
 * `subsample(data, eventDim)`: the data form ({@link subsampleData}); `subsample(name, size,
 * subsampleSize)`: the plate's index site, `subsampleSize` indices of `0..size-1` drawn as an
 * effectful site (so `trace`/`replay`/`seed` see them).
 *
 * @param dataOrName the full data tensor, or the index site's name.
 * @param eventDimOrSize the data's event dims, or the plate's size.
 * @param subsampleSize the number of indices (index-site form only).
 * @returns the visited data, or the int32 indices.
 * @example
 * ```ts
 * const batch = ppl.subsample(docs, 1);           // inside a subsampled plate
 * const idx = ppl.subsample('data', 1000, 32);     // 32 random indices, as a site
 * ```
 */
export function subsample(data: tf.Tensor, eventDim: number): tf.Tensor;
export function subsample(name: string, size: number, subsampleSize: number): tf.Tensor;
export function subsample(
  dataOrName: tf.Tensor | string,
  eventDimOrSize: number,
  subsampleSize?: number,
): tf.Tensor {
  if (typeof dataOrName === 'string') {
    return subsampleSite(dataOrName, eventDimOrSize, subsampleSize as number);
  }
  if (subsampleSize !== undefined) {
    throw new ArgumentError(
      'subsampleSize',
      'subsample(data, eventDim) takes two arguments; subsample(name, size, subsampleSize) ' +
        'takes a site name first',
    );
  }
  return subsampleData(dataOrName, eventDimOrSize);
}
