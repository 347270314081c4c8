/**
 * The stacked site of one {@link scan}: what a scanned site collects over the steps
 * ({@link ScanSite}) and the one message recorded for it, its steps' values, masks and scales
 * stacked along a leading time dim (NumPyro's stacked trace sites).
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../../distributions/distribution.js';
import { ArgumentError } from '../../../utils/errors.js';
import { broadcastShape } from '../../observed_value.js';
import { makeMessage, type Message } from '../../runtime.js';
import { StackedDistribution } from './stacked_distribution.js';

/** What one scanned site collects: its steps and what the outer handlers gave it. */
export interface ScanSite {
  name: string;
  /** The final message of each step, by time index. */
  steps: (Message | undefined)[];
  /** The outer handlers' value sliced per time index (`L <= T` of them), or null. */
  slices: tf.Tensor[] | null;
  /** The outer handlers' value when it covers all `T` steps (the stacked value as given). */
  full: tf.Tensor | null;
  /** The outer handlers' value when it has a step's shape (given to every step), or null. */
  every: tf.Tensor | null;
  /** Whether the outer handlers observed the site (`condition`). */
  observed: boolean;
  /** The seeds of the steps' draws, from the seed the outer handlers gave the site. */
  rng: (() => number) | null;
  /** Index of the outermost handler the stand-in reached (where a `block` stopped it, or 0). */
  reached: number;
  /** `uncondition` outside: the steps' own observations are dropped and kept here. */
  uncond: boolean;
  obs: (tf.Tensor | null)[];
  /** An outer handler stopped the steps (`intervene`'s `name__CF`): not stacked, not emitted. */
  hidden: boolean;
}

function shapeStr(t: tf.Tensor): string {
  return `[${t.shape.join(',')}]`;
}

/** The stacked message of one site from its `T` step messages. */
export function stackedMessage(site: ScanSite, steps: Message[]): Message {
  const name = site.name;
  const first = steps[0] as Message;
  const values = steps.map((s) => s.value as tf.Tensor);
  const vShape = (values[0] as tf.Tensor).shape;
  values.forEach((v, t) => {
    if (v.rank !== vShape.length || v.shape.some((d, i) => d !== vShape[i])) {
      throw new ArgumentError(
        name,
        `scan: sample site '${name}' has a value of shape ${shapeStr(v)} at step ${t}, ` +
          `${shapeStr(values[0] as tf.Tensor)} at step 0 (the steps' values are stacked: one shape)`,
      );
    }
  });
  const observed = site.observed || first.isObserved;
  if (!site.observed && steps.some((s) => s.isObserved !== first.isObserved)) {
    throw new ArgumentError(
      name,
      `scan: sample site '${name}' is observed at some steps and latent at others; observe it ` +
        'at every step (use obsMask for missing values) or at none',
    );
  }
  const scale = first.scale;
  if (steps.some((s) => s.scale !== scale)) {
    throw new ArgumentError(
      name,
      `scan: sample site '${name}' has a different scale at different steps ` +
        `(${steps.map((s) => s.scale).join(', ')}); a scanned site has one scale`,
    );
  }
  let fn: StackedDistribution;
  try {
    // one step's batch: its distribution's, broadcast with its value's batch part (a value may
    // be larger than the batch, e.g. an observation row under a scalar distribution)
    const fns = steps.map((s) => s.fn as Distribution);
    const eventRank = (fns[0] as Distribution).eventShape.length;
    let batch = vShape.slice(0, Math.max(0, vShape.length - eventRank));
    for (const d of fns) batch = broadcastShape(batch, d.batchShape);
    fn = new StackedDistribution(fns, batch);
  } catch (e) {
    if (e instanceof ArgumentError) throw new ArgumentError(name, `scan: ${e.message}`);
    throw e;
  }
  const lpShape = fn.batchShape.slice(1);
  // NumPyro's _promote_scanned_value_shapes: a step value of lower batch rank than the step's
  // batch (e.g. a scalar observation scored by a distribution batched over an enumerated dim)
  // gets 1s after the time dim, so that the time dim stays left of the batch dims
  const pad = lpShape.length + fn.eventShape.length - vShape.length;
  const stacked = site.full ?? tf.stack(values);
  const value =
    pad > 0
      ? tf.reshape(stacked, [
          stacked.shape[0] as number,
          ...new Array<number>(pad).fill(1),
          ...vShape,
        ])
      : stacked;
  const infer: Record<string, unknown> = { ...first.infer, _scanStacked: true };
  if (site.uncond) {
    infer.wasObserved = true;
    infer.obs = site.obs.some((o) => o === null) ? null : tf.stack(site.obs as tf.Tensor[]);
  }
  return makeMessage({
    type: 'sample',
    name,
    fn,
    value,
    isObserved: observed,
    scale,
    scaleTensor: stackScaleTensors(steps, lpShape),
    mask: stackMasks(steps, lpShape),
    cond: [...first.cond],
    infer,
  });
}

/** Throw unless `t` (a step's mask or elementwise scale) broadcasts to the step batch `shape`. */
function checkFits(name: string, what: string, t: tf.Tensor, shape: number[]): void {
  const fits =
    t.rank <= shape.length &&
    t.shape.every((d, i) => d === 1 || d === shape[shape.length - t.rank + i]);
  if (!fits) {
    throw new ArgumentError(
      name,
      `sample site '${name}': its ${what} of shape ${shapeStr(t)} does not broadcast to the ` +
        `step's log-probability shape [${shape.join(',')}] (its batch shape)`,
    );
  }
}

/** The steps' elementwise scales stacked to `[T, ...B]`, or null when no step has one. */
function stackScaleTensors(steps: Message[], shape: number[]): tf.Tensor | null {
  if (steps.every((s) => s.scaleTensor === null || s.scaleTensor === undefined)) return null;
  return tf.stack(
    steps.map((s) =>
      s.scaleTensor === null || s.scaleTensor === undefined
        ? tf.ones(shape)
        : (checkFits(s.name, 'scale', s.scaleTensor, shape), tf.broadcastTo(s.scaleTensor, shape)),
    ),
  );
}

/** The steps' masks stacked to a bool `[T, ...B]` (null / a boolean when they all agree). */
function stackMasks(steps: Message[], shape: number[]): tf.Tensor | boolean | null {
  const m0 = steps[0]?.mask ?? null;
  const plain = (m: Message['mask']): boolean => m === null || m === true;
  if (steps.every((s) => plain(s.mask))) return m0;
  if (m0 === false && steps.every((s) => s.mask === false)) return false;
  return tf.stack(
    steps.map((s) => {
      const m = s.mask;
      if (m instanceof tf.Tensor) {
        checkFits(s.name, 'mask', m, shape);
        return tf.broadcastTo(tf.cast(m, 'bool'), shape);
      }
      return m === false ? tf.zeros(shape, 'bool') : tf.ones(shape, 'bool');
    }),
  );
}
