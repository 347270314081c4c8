/**
 * The subsample plates of `HMCECS`: finding a model's plates with `subsampleSize < size` (only
 * observed sites inside them), and the handler that, during a run, sets each plate's indices to
 * the target's subsample, takes the plate's observed sites out of the density (collecting their
 * per-datum log-likelihoods `l_i`, summed over every dim but the plate's), for the target to add
 * the plate's estimator as a factor.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { seed as seedHandler } from '../handlers/seed.js';
import { trace } from '../handlers/trace.js';
import { Messenger } from '../messenger.js';
import type { Message } from '../runtime.js';
import type { ECSTarget } from './ecs_target.js';

/** A subsample plate of the model. */
export interface ECSPlate {
  name: string;
  /** Full size `N`. */
  size: number;
  /** Subsample size `m`. */
  subsampleSize: number;
  /** First index of its subsample in the Gibbs part of the extended vector. */
  offset: number;
}

/** The subsample plates of `model` (one seeded run), refused naming them when unusable. */
export function subsamplePlates(
  model: (...a: unknown[]) => unknown,
  args: unknown[],
  seed: number,
): ECSPlate[] {
  const plates: ECSPlate[] = [];
  tf.tidy(() => {
    const tr = trace(seedHandler(model, seed)).getTraceUntidied(...args).trace;
    let offset = 0;
    for (const s of tr.sites()) {
      if (s.type !== 'subsample' || s.subsampleSize >= s.size) continue;
      plates.push({ name: s.name, size: s.size, subsampleSize: s.subsampleSize, offset });
      offset += s.subsampleSize;
    }
    const names = new Set(plates.map((p) => p.name));
    for (const s of tr.sampleSites()) {
      if (s.isObserved || s.fn === null) continue;
      const inPlate = s.cond.find((f) => names.has(f.name));
      if (inPlate !== undefined) {
        throw new ArgumentError(
          'model',
          `HMCECS: latent site '${s.name}' is inside the subsample plate '${inPlate.name}': the subsampled plates may hold observed sites only (global latents outside them)`,
        );
      }
    }
  });
  if (plates.length === 0) {
    throw new ArgumentError(
      'model',
      "HMCECS: the model has no subsampled plate: give the data plate a subsampleSize smaller than its size, plate('data', N, {subsampleSize: m}, (idx) => ...)",
    );
  }
  return plates;
}

/**
 * During a run of the model: sets each subsample plate's indices, takes its observed sites out
 * of the density (collecting their per-datum log-likelihoods), and adds the plate's estimator as
 * a factor after the model. @internal
 */
export class ECSHandler extends Messenger {
  /** Per plate: the per-datum log-likelihood terms collected. */
  readonly lik: tf.Tensor[][];
  constructor(private readonly t: ECSTarget) {
    super();
    this.lik = t.plates.map(() => []);
  }
  override processMessage(msg: Message): void {
    const t = this.t;
    if (msg.type === 'subsample') {
      const p = t.plates.findIndex((q) => q.name === msg.name);
      if (p >= 0) msg.value = tf.tensor1d(t.indices[p] as Int32Array, 'int32');
      return;
    }
    if (msg.type !== 'sample' || !msg.isObserved || msg.fn === null || msg.value === null) return;
    const frame = msg.cond.find((f) => t.plates.some((q) => q.name === f.name));
    if (frame === undefined) return;
    if ((msg.mask !== null && msg.mask !== true) || msg.scaleTensor !== null) {
      throw new ArgumentError(
        'model',
        `HMCECS: observed site '${msg.name}' in the subsample plate '${frame.name}' has a mask or a scale tensor, which the likelihood estimator does not take`,
      );
    }
    const lp = msg.fn.logProb(msg.value);
    const axis = lp.rank + frame.dim;
    if (axis < 0 || lp.shape[axis] !== frame.subsampleSize) {
      throw new ArgumentError(
        'model',
        `HMCECS: site '${msg.name}' has a log-density of shape [${lp.shape}], without the plate '${frame.name}' (${frame.subsampleSize}) at dim ${frame.dim}`,
      );
    }
    const others = Array.from({ length: lp.rank }, (_, i) => i).filter((i) => i !== axis);
    const per = others.length === 0 ? lp : tf.sum(lp, others);
    // the plates outside the subsample plate scale the term too (their own subsampling)
    const outer = msg.scale / (frame.size / frame.subsampleSize);
    const p = t.plates.findIndex((q) => q.name === frame.name);
    (this.lik[p] as tf.Tensor[]).push(outer === 1 ? per : tf.mul(per, outer));
    msg.mask = false;
    msg.infer = { ...msg.infer, ecsLikelihood: true };
  }
}
