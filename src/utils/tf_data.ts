/**
 * `tf.data` datasets as data sources: recognising one (also from another copy of tfjs-data) and
 * reading its elements asynchronously, afresh on each call, as `model.fitDataset` does.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Whether `d` is a `tf.data.Dataset`, also one from another copy of tfjs-data (by its
 * `iterator()`/`batch()`/`forEachAsync()` methods).
 *
 * @param d any value.
 * @returns true for a dataset.
 */
export function isTfDataset(d: unknown): d is tf.data.Dataset<tf.TensorContainer> {
  if (d instanceof tf.data.Dataset) return true;
  if (d === null || typeof d !== 'object') return false;
  const o = d as Record<string, unknown>;
  return (
    typeof o.iterator === 'function' &&
    typeof o.batch === 'function' &&
    typeof o.forEachAsync === 'function'
  );
}

/**
 * The elements of one pass over a dataset, read asynchronously from a fresh iterator (each call
 * starts again at the first element, as each epoch of `model.fitDataset` does).
 *
 * @param ds a `tf.data.Dataset`.
 * @returns an async iterable of its elements; the caller owns (and disposes) each element.
 */
export async function* datasetElements(
  ds: tf.data.Dataset<tf.TensorContainer>,
): AsyncGenerator<tf.TensorContainer> {
  const it = await ds.iterator();
  for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
}
