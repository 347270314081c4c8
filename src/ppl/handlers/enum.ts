/**
 * `enumerate`: parallel enumeration of discrete latent sites (Pyro's `EnumMessenger` with
 * `enumerate: 'parallel'`). Every unobserved sample site marked `{infer: {enumerate: 'parallel'}}`
 * and given no value by an inner handler takes *all* its support values at once, laid out along
 * a fresh batch dimension to the left of every plate:
 *
 * $$z = (0, 1, \dots, K-1) \text{ reshaped to } [K, 1, \dots, 1] \quad(\text{dim } d = d_0 - i),$$
 *
 * (a `OneHotCategorical` site takes its one-hot vectors, shape `[K, 1, ..., 1, K]`, the event dim
 * on the right, as Pyro's `enumerate_support(expand=False)`),
 * with `d_0 = -(maxPlateNesting + 1)` and `i` the index of the enumerated site in the run. The
 * model's downstream computations broadcast over these dims, so its log-densities hold every
 * combination; `TraceEnumELBO` sums them out exactly.
 *
 * A site marked `{expand: true}` takes its values over its whole batch shape,
 * `[K, 1, ..., 1, ...batchShape]` (Pyro's `expand=True`); one marked `{numSamples: S}` takes `S`
 * draws from its distribution along its dim instead (Pyro's sampled enumeration, any support),
 * noted `infer._enumSampled = S` for the ELBO's `1/S` weights.
 *
 * The support tables and enumeration checks are in `enum_support.ts`, the dim allocator in
 * `enum_dims.ts`, `configEnumerate`/`inferConfig` in `infer_config.ts`.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { broadcastShapes } from '../../utils/tensor.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';
import { EnumDimAllocator, type DimLabels } from './enum_dims.js';
import {
  checkEnumerable,
  checkNumSamples,
  enumerateSupportTable,
  maxEnumRank,
} from './enum_support.js';

/** The markov scope recorded on a site by `markov` (undefined outside every markov context). */
function markovScope(msg: Message): ReadonlyMap<string, number> | undefined {
  return msg.infer._markovScope as ReadonlyMap<string, number> | undefined;
}

/**
 * Gives enumerated sites their support values at dims left of `firstAvailableDim` (fresh ones,
 * or, inside `markov`, ones freed by steps out of the declared history); records on every sample
 * site which enumerated site holds each dim it sees (`infer._dimLabels`).
 */
export class EnumMessenger extends Messenger {
  private readonly dims: EnumDimAllocator;
  constructor(readonly firstAvailableDim: number) {
    super();
    if (!Number.isInteger(firstAvailableDim) || firstAvailableDim >= 0) {
      throw new ArgumentError(
        'firstAvailableDim',
        `expected a negative integer, got ${firstAvailableDim}`,
      );
    }
    this.dims = new EnumDimAllocator(firstAvailableDim);
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.fn === null) return;
    // a plate at an enumeration dim: its members would be read as enumerated values
    const deep = msg.cond.find((f) => f.dim <= this.firstAvailableDim);
    if (deep !== undefined) {
      throw new ArgumentError(
        'maxPlateNesting',
        `site '${msg.name}' is in plate '${deep.name}' at dim ${deep.dim}, but enumeration ` +
          `uses dims from ${this.firstAvailableDim} leftwards (maxPlateNesting ` +
          `${-this.firstAvailableDim - 1}): increase maxPlateNesting to at least ${-deep.dim}`,
      );
    }
    const scope = markovScope(msg);
    const seen = this.dims.visible(scope);
    const enumerated = !msg.isObserved && msg.value === null && msg.infer.enumerate === 'parallel';
    if (!enumerated) {
      msg.infer = { ...msg.infer, _dimLabels: seen };
      return;
    }
    const fn = msg.fn;
    const numSamples = msg.infer.numSamples;
    if (numSamples !== undefined) checkNumSamples(numSamples, `site '${msg.name}'`);
    const table = numSamples === undefined ? enumerateSupportTable(fn, msg.name) : undefined;
    const label = `e:${msg.name}`;
    const dim = this.dims.allocate(label, scope !== undefined, seen);
    const maxRank = maxEnumRank();
    if (-dim > maxRank) {
      table?.dispose();
      throw new ArgumentError(
        msg.name,
        `site '${msg.name}': enumerating it needs batch dim ${dim}, but the ${tf.getBackend()} ` +
          `kernels handle tensors of rank <= ${maxRank + 1} (a Categorical adds one): at most ` +
          `${maxRank} plate and ` +
          'enumeration dims together' +
          (scope === undefined ? ' (a chain of discrete sites can reuse dims inside markov)' : ''),
      );
    }
    seen.set(dim, label);
    if (table === undefined) {
      msg.value = sampledValues(msg, numSamples as number, dim);
      msg.infer = {
        ...msg.infer,
        _enumerated: true,
        _enumDim: dim,
        _dimLabels: seen,
        _enumSampled: numSamples,
      };
      return;
    }
    const shape = [table.shape[0] as number, ...new Array<number>(-dim - 1).fill(1)];
    msg.value = tf.tidy(() => {
      const v = tf.reshape(table, [...shape, ...fn.eventShape]);
      if (msg.infer.expand !== true) return v;
      // Pyro's expand=True: the values over the site's whole batch shape
      const batch = broadcastShapes({ values: shape, batch: fn.batchShape });
      return tf.broadcastTo(v, [...batch, ...fn.eventShape]);
    });
    table.dispose();
    msg.infer = { ...msg.infer, _enumerated: true, _enumDim: dim, _dimLabels: seen };
  }
  override postprocessMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.fn === null || msg.value === null) return;
    const seen = msg.infer._dimLabels as DimLabels | undefined;
    if (seen === undefined) return;
    // the dims the value carries (size > 1 left of its event dims) are passed downstream
    const batch = msg.value.shape.slice(0, msg.value.rank - msg.fn.eventShape.length);
    const carried: DimLabels = new Map();
    for (const [d, label] of seen) {
      if (batch.length >= -d && (batch[batch.length + d] as number) > 1) carried.set(d, label);
    }
    this.dims.record(msg.name, (msg.infer._markovDepth as number | undefined) ?? 0, carried);
  }
}

/**
 * `S` independent draws of a site (Pyro's sampled enumeration, `num_samples`) laid along its
 * enumeration dim `dim`: the site's batch shape, left-padded with 1s to at least `-dim` dims,
 * with `S` at `dim` (where the batch has size 1: no site it sees holds `dim`), then its event
 * dims; no gradient (the ELBO's DiCE factor gives the score-function one).
 */
function sampledValues(msg: Message, numSamples: number, dim: number): tf.Tensor {
  const fn = msg.fn as Distribution;
  const batch = fn.batchShape;
  const rank = Math.max(-dim, batch.length);
  const padded = [...new Array<number>(rank - batch.length).fill(1), ...batch];
  const at = rank + dim; // the axis of dim in the padded batch shape
  if (padded[at] !== 1) {
    throw new ArgumentError(
      msg.name,
      `site '${msg.name}': its batch shape [${batch.join(',')}] already has size ` +
        `${padded[at]} at its enumeration dim ${dim}`,
    );
  }
  return tf.tidy(() => {
    const draws = tf.reshape(fn.sample([numSamples], msg.seed), [
      numSamples,
      ...padded.filter((_, i) => i !== at),
      ...fn.eventShape,
    ]);
    // move the draws' axis from the front to dim
    const perm = Array.from({ length: draws.rank }, (_, i) => i);
    perm.splice(0, 1);
    perm.splice(at, 0, 0);
    return perm.every((p, i) => p === i) ? draws : tf.transpose(draws, perm);
  });
}

/**
 * Enumerate the sites of `fn` marked `{infer: {enumerate: 'parallel'}}`.
 *
 * @param fn the model.
 * @param firstAvailableDim the rightmost dim free of plates, `-(maxPlateNesting + 1)`.
 * @example
 * ```ts
 * const tr = trace(enumerate(model, -2)).getTrace(data); // z has shape [K, 1]
 * ```
 */
export function enumerate<A extends unknown[], R>(
  fn: Fn<A, R>,
  firstAvailableDim: number,
): Fn<A, R> {
  new EnumMessenger(firstAvailableDim); // validate now
  return wrapWith(fn, () => new EnumMessenger(firstAvailableDim));
}

/**
 * Marks every unobserved discrete sample site still without a value for parallel enumeration,
 * after {@link checkEnumerable} (NumPyro's automatic enumeration in HMC).
 */
export class EnumerateDiscreteConfigMessenger extends Messenger {
  constructor(private readonly who: string) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.isObserved || msg.value !== null || msg.fn === null) return;
    if (msg.infer.numSamples !== undefined) {
      throw new ArgumentError(
        msg.name,
        `${this.who}: site '${msg.name}' asks for numSamples (sampled enumeration, for ` +
          `TraceEnumELBO); ${this.who} sums discrete sites out exactly: remove numSamples`,
      );
    }
    if (!msg.fn.support.isDiscrete) return;
    checkEnumerable(msg, this.who);
    msg.infer = { ...msg.infer, enumerate: 'parallel' };
  }
}

/**
 * Enumerate every discrete latent site of `fn` (marked or not) in parallel at dims left of
 * `firstAvailableDim`: how `MCMC` and `inferDiscrete` sum discrete latents out. A discrete site
 * that cannot be enumerated throws naming `who` and the site (see {@link checkEnumerable}).
 *
 * @example
 * ```ts
 * const tr = trace(enumerateDiscrete(model, -2, 'MCMC')).getTrace(data);
 * ```
 */
export function enumerateDiscrete<A extends unknown[], R>(
  fn: Fn<A, R>,
  firstAvailableDim: number,
  who: string,
): Fn<A, R> {
  return enumerate(
    wrapWith(fn, () => new EnumerateDiscreteConfigMessenger(who)),
    firstAvailableDim,
  );
}
