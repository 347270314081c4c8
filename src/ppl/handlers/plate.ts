/**
 * `plate`: a vectorized set of conditionally independent sites, optionally subsampled (Pyro's
 * `plate`, i.e. `PlateMessenger` = `BroadcastMessenger` + `SubsampleMessenger`).
 *
 * A plate occupies one batch dimension `dim < 0` (counted from the right). Every sample site
 * inside gets its distribution broadcast (`fn.expand`) so that its batch shape has the plate's
 * (sub)sample size `B` at `dim`: `plate('J', 8, () => sample('eta', new Normal(0, 1)))` gives a
 * site of shape `[8]`. A batch dimension that is neither 1 nor `B` at `dim` is an error naming
 * the site, the plate and both shapes. Nested plates without an explicit `dim` take the
 * rightmost free dimension (the outer plate `-1`, the next `-2`, ...), as Pyro allocates them.
 *
 * When only `subsampleSize = B` of the `size = N` members are visited, every sample site inside
 * gets its log-probability multiplied by `N / B`, so that
 *
 * $$\frac{N}{B}\sum_{i\in\text{batch}} \log p(x_i\mid\theta)$$
 *
 * is an unbiased estimate of the full-data log-likelihood, and the minibatch ELBO is a properly
 * scaled estimate of the full ELBO (the KL of global latents is counted once, not once per batch).
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { Messenger } from '../messenger.js';
import { subsample as subsampleSite, type Message, type PlateFrame } from '../runtime.js';

/** Options of {@link plate}. */
export interface PlateOptions {
  /** The indices of the members visited (e.g. the positions of the current minibatch). */
  subsample?: tf.Tensor | number[];
  /** Visit a random subset of this size (drawn through an effectful `subsample` site). */
  subsampleSize?: number;
  /** The batch dimension of the plate (negative); default: the rightmost free dimension. */
  dim?: number;
}

/**
 * Which plate holds each batch dimension: `allocated[i]` is the plate at dim `-1 - i` (Pyro's
 * `_DimAllocator`). Global, like the handler stack: models run synchronously.
 */
const allocated: (string | null)[] = [];

/** Reserve `dim` (or the rightmost free dimension) for plate `name`; returns the dim. */
export function allocateDim(name: string, dim: number | undefined): number {
  if (allocated.includes(name)) {
    throw new ArgumentError(
      'name',
      `plate '${name}' is already active (plate names must be unique)`,
    );
  }
  let d: number;
  if (dim === undefined) {
    d = -1;
    while (-d <= allocated.length && allocated[-1 - d] !== null) d--;
  } else {
    if (!Number.isInteger(dim) || dim >= 0) {
      throw new ArgumentError('dim', `plate '${name}': expected a negative integer, got ${dim}`);
    }
    d = dim;
  }
  while (allocated.length < -d) allocated.push(null);
  const holder = allocated[-1 - d];
  if (holder !== null && holder !== undefined) {
    throw new ArgumentError('dim', `plates '${holder}' and '${name}' both use dim ${d}`);
  }
  allocated[-1 - d] = name;
  return d;
}

/** Release the dimension of plate `name`. */
export function freeDim(dim: number): void {
  if (-1 - dim < allocated.length) allocated[-1 - dim] = null;
  while (allocated.length > 0 && allocated[allocated.length - 1] === null) allocated.pop();
}

/** Number of batch dimensions held by the active plates (the highest `-dim` in use). */
export function activePlateNesting(): number {
  return allocated.length;
}

/**
 * The batch shape that site `msg` must have inside its plates: the plate sizes at their dims,
 * the distribution's own sizes elsewhere (1 where it has none). Throws naming the site, the plate
 * and the shapes when a dimension is neither 1 nor the plate's size.
 */
export function plateBatchShape(msg: Message, batchShape: readonly number[]): number[] {
  let rank = batchShape.length;
  for (const f of msg.cond) rank = Math.max(rank, -f.dim);
  const target: number[] = new Array<number>(rank).fill(1);
  for (let i = 0; i < batchShape.length; i++) {
    target[rank - batchShape.length + i] = batchShape[i] as number;
  }
  for (const f of msg.cond) {
    const at = rank + f.dim;
    const have =
      at >= rank - batchShape.length ? (batchShape[at - rank + batchShape.length] as number) : 1;
    if (have !== 1 && have !== f.subsampleSize) {
      const k = eventDimsThatFit(msg.cond, batchShape);
      const plates = platesShape(msg.cond);
      throw new ArgumentError(
        msg.name,
        `sample site '${msg.name}' inside plate '${f.name}' (size ${f.subsampleSize} at dim ` +
          `${f.dim}): its batch shape [${batchShape.join(',')}] has size ${have} at that dim; ` +
          `expected 1 or ${f.subsampleSize} (if its rightmost ${k} dim(s) are one vector-valued ` +
          `draw, declare them an event: .toEvent(${k}), Pyro's .to_event(${k}), leaving the ` +
          `batch shape [${batchShape.slice(0, batchShape.length - k).join(',')}]; else give it ` +
          `the batch shape [${plates.join(',')}] of its plates)`,
      );
    }
    target[at] = f.subsampleSize;
  }
  return target;
}

/** The batch shape of a site's plates: each plate's size at its dim, 1 elsewhere. */
function platesShape(cond: readonly PlateFrame[]): number[] {
  const rank = Math.max(0, ...cond.map((f) => -f.dim));
  const shape = new Array<number>(rank).fill(1);
  for (const f of cond) shape[rank + f.dim] = f.subsampleSize;
  return shape;
}

/**
 * The fewest rightmost batch dims `k` that, declared an event (`.toEvent(k)`), leave a batch shape
 * of plate dims only: each of its dims of size other than 1 at a plate's dim, of that plate's size
 * (Pyro's convention, which enumeration needs). `k = batchShape.length` always qualifies.
 */
function eventDimsThatFit(cond: readonly PlateFrame[], batchShape: readonly number[]): number {
  const size = new Map(cond.map((f) => [f.dim, f.subsampleSize]));
  for (let k = 1; k < batchShape.length; k++) {
    const batch = batchShape.slice(0, batchShape.length - k);
    if (batch.every((n, i) => n === 1 || size.get(i - batch.length) === n)) return k;
  }
  return batchShape.length;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Broadcast the distribution of a sample site to the batch shape its plates require
 * ({@link plateBatchShape}); a no-op when it already has it.
 */
export function broadcastSite(msg: Message): void {
  if (msg.type !== 'sample' || msg.fn === null || msg.cond.length === 0) return;
  const fn: Distribution = msg.fn;
  const target = plateBatchShape(msg, fn.batchShape);
  if (!sameShape(target, fn.batchShape)) msg.fn = fn.expand(target);
}

/** Pushes a plate frame, broadcasts sites and scales log-probabilities by `size / subsampleSize`. @internal */
export class PlateMessenger extends Messenger {
  /**
   * @param frame the plate's frame.
   * @param indices its subsample indices (int32, `[subsampleSize]`), to slice the param sites
   *   declared with an `eventDim` (Pyro's `SubsampleMessenger._postprocess_message`).
   */
  constructor(
    readonly frame: PlateFrame,
    private readonly indices: tf.Tensor | null = null,
  ) {
    super();
  }
  /** The visited members (int32 `[subsampleSize]`), or null (read by `subsample(data, eventDim)`). */
  get subsampleIndices(): tf.Tensor | null {
    return this.indices;
  }
  override postprocessMessage(msg: Message): void {
    if (msg.type !== 'param' || msg.eventDim === undefined || msg.value === null) return;
    const f = this.frame;
    const value = msg.value;
    const axis = value.rank + f.dim - msg.eventDim;
    if (axis < 0) return; // the param has no such dim: it broadcasts over the plate
    const n = value.shape[axis] as number;
    if (n === 1) return;
    if (n !== f.size) {
      throw new ArgumentError(
        msg.name,
        `param('${msg.name}', ..., {eventDim: ${msg.eventDim}}) inside plate '${f.name}' (size ` +
          `${f.size} at dim ${f.dim}): its shape [${value.shape.join(',')}] has size ${n} at dim ` +
          `${f.dim - msg.eventDim}; expected 1 or ${f.size}`,
      );
    }
    if (f.subsampleSize < f.size && this.indices !== null) {
      msg.value = tf.gather(value, this.indices, axis);
    }
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample') return;
    // a site drawn once for the whole model inside a plate (Pyro's `block_plate`, e.g. the
    // shared latent of NeuTraReparam): not broadcast, not scaled by this plate
    const blocked = msg.infer._blockPlates;
    if (Array.isArray(blocked) && blocked.includes(this.frame.name)) return;
    msg.cond = [this.frame, ...msg.cond];
    if (this.frame.subsampleSize !== this.frame.size) {
      msg.scale *= this.frame.size / this.frame.subsampleSize;
    }
    broadcastSite(msg);
  }
  protected override exit(): void {
    freeDim(this.frame.dim);
  }
}

/**
 * Run `fn(indices)` inside a plate of `size` members; `indices` are the visited members
 * (all of `0..size-1` unless subsampled). Sample sites inside are broadcast to the plate's
 * (sub)sample size at its dim.
 *
 * @param name plate name (the subsample site is named after it).
 * @param size full number of members, e.g. the data set size.
 * @param options `subsample` indices or `subsampleSize`, and the plate's `dim`.
 * @param fn the body; receives the int32 indices.
 * @example
 * ```ts
 * // eight schools: eta has shape [8]
 * plate('J', 8, () => sample('eta', new Normal(0, 1)));
 * // x, y: the current minibatch of a data set of 60000 points
 * plate('data', 60000, { subsample: batchIndices }, () =>
 *   sample('obs', new Categorical({ logits }), { obs: y }));
 * // nested: a [3, 4] grid (outer plate at dim -1, inner at -2 unless dims are given)
 * plate('cols', 4, { dim: -1 }, () => plate('rows', 3, { dim: -2 }, () => sample('z', d)));
 * ```
 */
export function plate<R>(
  name: string,
  size: number,
  options: PlateOptions | ((indices: tf.Tensor) => R),
  fn?: (indices: tf.Tensor) => R,
): R {
  const body = typeof options === 'function' ? options : fn;
  const o: PlateOptions = typeof options === 'function' ? {} : options;
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError('name', `expected a non-empty string, got ${String(name)}`);
  }
  if (typeof body !== 'function')
    throw new ArgumentError('fn', `plate '${name}' needs a body function`);
  if (typeof options === 'function' && fn !== undefined) {
    // plate(name, size, body, {dim}) would silently drop the options
    throw new ArgumentError(
      'options',
      `plate '${name}': the options come before the body, plate(name, size, options, fn); ` +
        `got a ${fn === null ? 'null' : typeof fn} after the body`,
    );
  }
  checkPlateArgs('plate', name, size, o, ['subsample', 'subsampleSize', 'dim']);
  if (o.dim !== undefined && (!Number.isInteger(o.dim) || o.dim >= 0)) {
    throw new ArgumentError('dim', `plate '${name}': expected a negative integer, got ${o.dim}`);
  }
  // the plate's dim first (a clash or a repeated name is refused before anything is made)
  const dim = allocateDim(name, o.dim);
  let indices: tf.Tensor | undefined;
  let m: PlateMessenger;
  try {
    indices = plateIndices(name, size, o);
    m = new PlateMessenger({ name, size, subsampleSize: indices.shape[0] as number, dim }, indices);
  } catch (e) {
    freeDim(dim);
    if (indices !== undefined && indices !== o.subsample) indices.dispose();
    throw e;
  }
  const idx = indices;
  try {
    return m.run(() => body(idx));
  } catch (e) {
    // a throwing body returns nothing: the indices this plate made are nobody's
    if (idx !== o.subsample) idx.dispose();
    throw e;
  }
}

/**
 * Throw unless `o` is an options object with only the `keys` and `size` an integer >= 1, the
 * checks `plate` and `plateSeq` (`label`, the function named in the messages) share. @internal
 */
export function checkPlateArgs(
  label: string,
  name: string,
  size: number,
  o: unknown,
  keys: string[],
): void {
  if (o === null || typeof o !== 'object') {
    throw new ArgumentError('options', `${label} '${name}': expected an object, got ${String(o)}`);
  }
  checkOptionKeys(o, keys, `${label} '${name}'`);
  if (!Number.isInteger(size) || size < 1) {
    throw new ArgumentError('size', `${label} '${name}': expected an integer >= 1, got ${size}`);
  }
}

/**
 * The visited members of plate `name`: its `subsample`, a subsample of `subsampleSize`, or all.
 * @internal
 */
export function plateIndices(name: string, size: number, o: PlateOptions): tf.Tensor {
  let indices: tf.Tensor;
  if (o.subsample !== undefined) {
    if (
      !(o.subsample instanceof tf.Tensor) &&
      (!Array.isArray(o.subsample) ||
        o.subsample.some((i) => !Number.isInteger(i) || i < 0 || i >= size))
    ) {
      throw new ArgumentError(
        'subsample',
        `plate '${name}': expected a tensor or an array of integer indices in [0, ${size})`,
      );
    }
    indices = o.subsample instanceof tf.Tensor ? o.subsample : tf.tensor1d(o.subsample, 'int32');
    if (indices.rank !== 1) {
      throw new ArgumentError(
        'subsample',
        `plate '${name}': expected a 1-d tensor, got shape [${indices.shape}]`,
      );
    }
    if (o.subsample instanceof tf.Tensor) checkIndexTensor(name, size, o.subsample);
  } else {
    const k = o.subsampleSize ?? size;
    if (!Number.isInteger(k) || k < 1 || k > size) {
      throw new ArgumentError(
        'subsampleSize',
        `plate '${name}': expected an integer in [1, ${size}], got ${k}`,
      );
    }
    indices = subsampleSite(name, size, k);
  }
  const k = indices.shape[0] as number;
  if (k < 1 || k > size) {
    if (indices !== o.subsample) indices.dispose();
    throw new ArgumentError(
      'subsample',
      `plate '${name}': expected between 1 and ${size} indices, got ${k}`,
    );
  }
  return indices;
}

/**
 * Throw unless a `subsample` tensor is live, int32, and holds indices in `[0, size)` (a float
 * tensor or an index past the end would gather garbage or fail inside tfjs later).
 */
function checkIndexTensor(name: string, size: number, t: tf.Tensor): void {
  if (t.isDisposed) {
    throw new ArgumentError(
      'subsample',
      `plate '${name}': expected a live tensor, got a disposed one`,
    );
  }
  if (t.dtype !== 'int32') {
    throw new ArgumentError(
      'subsample',
      `plate '${name}': expected an int32 tensor of indices, got dtype ${t.dtype}`,
    );
  }
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) {
    const k = v[i] as number;
    if (k < 0 || k >= size) {
      throw new ArgumentError(
        'subsample',
        `plate '${name}': expected indices in [0, ${size}), got ${k} at position ${i}`,
      );
    }
  }
}
