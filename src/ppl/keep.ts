/**
 * Objects that outlive the `tf.tidy` they were made in (bijectors of a guide or of the parameter
 * store, made on a model's first run inside an ELBO's tidy) keep their tensors with
 * {@link keepCreated}; they free them in their own `dispose`.
 */
import * as tf from '@tensorflow/tfjs';

/** The id that the next tensor will get minus one (tensors with larger ids are newer). */
export function lastTensorId(): number {
  const probe = tf.scalar(0);
  const id = probe.id;
  probe.dispose();
  return id;
}

/**
 * `tf.keep` every tensor reachable from `o` (fields, arrays, nested objects, a few levels deep)
 * created after tensor id `startId`; variables and older tensors are left alone.
 * @param o the object (e.g. a bijector).
 * @param startId `lastTensorId()` taken before the object was made.
 */
export function keepCreated(
  o: unknown,
  startId: number,
  depth = 0,
  seen = new Set<object>(),
): void {
  if (o instanceof tf.Tensor) {
    if (o.id > startId && !o.isDisposed && !(o instanceof tf.Variable)) tf.keep(o);
    return;
  }
  if (depth > 4 || o === null || typeof o !== 'object' || seen.has(o)) return;
  seen.add(o);
  for (const v of Array.isArray(o) ? o : Object.values(o)) keepCreated(v, startId, depth + 1, seen);
}
