/**
 * The shape rule of a scored value: its last dims are the event shape, the rest broadcast with
 * the batch shape (numpy rules). `Distribution.logProb` & co. check it before any work, so a bad
 * value fails with an `ArgumentError` naming `value`, not a tfjs broadcast error.
 */

/**
 * Why a value of shape `shape` cannot be scored by a distribution with these batch and event
 * shapes (its last dims must equal the event shape, the rest must broadcast with the batch
 * shape), or null when it can.
 */
export function valueShapeProblem(
  shape: readonly number[],
  batch: readonly number[],
  event: readonly number[],
): string | null {
  const e = event.length;
  const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;
  const eventOk = shape.length >= e && event.every((d, i) => shape[shape.length - e + i] === d);
  if (!eventOk) {
    return `expected a value whose last dims are the event shape ${fmt(event)}, got ${fmt(shape)}`;
  }
  const vb = shape.slice(0, shape.length - e);
  for (let i = 1; i <= Math.min(vb.length, batch.length); i++) {
    const a = vb[vb.length - i] as number;
    const b = batch[batch.length - i] as number;
    if (a !== b && a !== 1 && b !== 1) {
      return `a value of shape ${fmt(shape)} does not broadcast with the batch shape ${fmt(batch)}`;
    }
  }
  return null;
}
