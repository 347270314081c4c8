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
 */
import * as tf from '@tensorflow/tfjs';
import { finiteSupportValues, type Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { broadcastShapes } from '../../utils/tensor.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';

/**
 * The support values `lower..upper` (finite integer intervals) or `{0, 1}` of a discrete site with
 * no event dims, as float32 like the family's draws (cast with `tf.cast(z, 'int32')` to index);
 * {@link enumerateSupportTable} also covers one-hot vectors.
 */
export function enumerateSupportValues(fn: Distribution, site: string): number[] {
  const values = finiteSupportValues(fn.support);
  if (values !== undefined) return values;
  throw new ArgumentError(
    site,
    `site '${site}': cannot enumerate the support ${fn.support.name} of ${fn.name} (expected ` +
      'a boolean or a finite integer interval with the same bounds for the whole batch)',
  );
}

/**
 * Whether `fn` can be enumerated: a boolean or finite integer-interval support with no event
 * dims (`Bernoulli`, `Categorical`, ...), or the one-hot vectors of length `K` (`OneHotCategorical`,
 * event shape `[K]`, possibly expanded), as Pyro's `has_enumerate_support`.
 */
export function isEnumerable(fn: Distribution): boolean {
  if (fn.eventShape.length === 0) return finiteSupportValues(fn.support) !== undefined;
  return fn.support.kind === 'oneHot' && fn.eventShape.length === 1;
}

/**
 * The `K` support values of a discrete site, float32 like the family's draws, as a table of shape
 * `[K, ...eventShape]` (from the family's `enumerateSupport(false)`): `[K]` holding
 * `lower..upper` or `{0, 1}` (cast with `tf.cast(z, 'int32')` to index), or `[K, K]` holding the
 * one-hot vectors `e_0, ..., e_{K-1}` of a `OneHotCategorical`.
 */
export function enumerateSupportTable(fn: Distribution, site: string): tf.Tensor {
  if (!isEnumerable(fn)) {
    throw new ArgumentError(
      site,
      `site '${site}': cannot enumerate the support ${fn.support.name} of ${fn.name} (expected ` +
        'a boolean or a finite integer interval with the same bounds for the whole batch and no ' +
        'event dims, or one-hot vectors)',
    );
  }
  return tf.tidy(() => {
    const v = fn.enumerateSupport(false);
    return tf.reshape(v, [v.shape[0] as number, ...fn.eventShape]);
  });
}

/**
 * The deepest batch dim an enumerated site may take on the WebGL, WebGPU and TensorFlow
 * backends: rank-6 tensors (5 batch dims and a `Categorical`'s event dim); their shaders stop at
 * 6 dims. (The wasm backend's XNNPACK binary kernels did too, leaving the output unwritten;
 * `ready()` folds their operands to at most 6 dims, `backend/kernels/binary_rank.ts`.)
 */
export const MAX_ENUM_RANK = 5;

/**
 * The deepest batch dim (plates and enumeration together) an enumerated site may take on the
 * current backend: 15 on `cpu` and `wasm` (their kernels broadcast, reduce, transpose and gather
 * tensors of rank 16 and more once `ready()` has fixed wasm's binary kernels; Pyro's own ceiling
 * is PyTorch's 25 dims on CUDA), {@link MAX_ENUM_RANK} elsewhere. A deeper site is an error
 * naming it, before any tensor of that rank is made.
 */
export function maxEnumRank(): number {
  const backend = tf.getBackend();
  return backend === 'cpu' || backend === 'wasm' ? 15 : MAX_ENUM_RANK;
}

/** Which enumerated variable (label `e:name`) holds each enumeration dim, as a site sees it. */
export type DimLabels = Map<number, string>;

/**
 * The enumeration dims of one run (Pyro's `_EnumAllocator` with the `EnumMessenger` bookkeeping).
 *
 * A site outside every `markov` context is *global*: it takes a fresh dim, left of every dim used
 * so far, and stays visible to every later site. A site inside a `markov` context is *local*: it
 * takes the rightmost dim left of the plates that no site visible to it holds (the global dims,
 * and the dims carried by the values of the sites in its markov scope), so a first-order chain
 * alternates between two dims. Each site records the dims it sees ({@link DimLabels}): how the
 * factor graph reads the dims of its log-density.
 */
export class EnumDimAllocator {
  private nextFresh: number;
  private readonly global: DimLabels = new Map();
  private readonly valueDims = new Map<string, DimLabels>();
  private readonly depths = new Map<string, number>();

  constructor(readonly firstAvailableDim: number) {
    this.nextFresh = firstAvailableDim;
  }

  /** The dims a site with the markov scope `scope` (none: outside `markov`) sees. */
  visible(scope: ReadonlyMap<string, number> | undefined): DimLabels {
    const seen: DimLabels = new Map(this.global);
    if (scope === undefined) return seen;
    for (const [name, count] of scope) {
      // a site is visible when every markov context that encloses it still sees it
      if (this.depths.get(name) !== count) continue;
      for (const [d, label] of this.valueDims.get(name) ?? []) seen.set(d, label);
    }
    return seen;
  }

  /** The dim for a new enumerated site: fresh when global, the rightmost unseen one when local. */
  allocate(label: string, local: boolean, seen: DimLabels): number {
    let dim: number;
    if (local) {
      dim = this.firstAvailableDim;
      while (seen.has(dim) || this.global.has(dim)) dim--;
    } else {
      dim = this.nextFresh;
      this.global.set(dim, label);
    }
    this.nextFresh = Math.min(this.nextFresh, dim - 1);
    return dim;
  }

  /** Record the dims the value of site `name` carries and its markov depth. */
  record(name: string, depth: number, dims: DimLabels): void {
    this.valueDims.set(name, dims);
    this.depths.set(name, depth);
  }
}

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

/** Options of {@link configEnumerate} (Pyro's `expand` and `num_samples`). */
export interface ConfigEnumerateOptions {
  /**
   * Give each enumerated site its values expanded over its batch shape, `[K, 1, ..., 1,
   * ...batchShape]`, instead of `[K, 1, ..., 1]` (Pyro's `expand`; same results, larger tensors).
   * Default: not set on the sites (false).
   */
  expand?: boolean;
  /**
   * Sampled enumeration (Pyro's `num_samples`, with `'parallel'` only): every latent site (discrete
   * or continuous) takes `S` independent draws from its distribution along its enumeration dim
   * instead of its support values; `TraceEnumELBO` weighs each by `1/S` (with the score-function
   * gradient of Pyro's DiCE factor `exp(log p - sg(log p))`), so that summing over the draws gives
   * `log (1/S) sum_s p(x | z_s)` in the model and `(1/S) sum_s f(z_s)` in the guide.
   */
  numSamples?: number;
}

/**
 * Mark the latent sites of `fn` for enumeration (Pyro's `config_enumerate`): every discrete
 * latent site gets `{enumerate: mode}` (with `numSamples`, every latent site gets `{enumerate:
 * 'parallel', numSamples}`); sites that already have an annotation keep it.
 *
 * - `'parallel'`: all values at once along a fresh batch dim (see {@link enumerate}).
 * - `'sequential'` (guides, with `TraceEnumELBO`): the guide runs once per value, each run
 *   weighted by the guide's probability of it (Pyro's `iter_discrete_traces`).
 *
 * @param fn the model or guide.
 * @param mode Pyro's `default` argument: `'parallel'` (default) or `'sequential'`.
 * @param options `expand`, `numSamples` ({@link ConfigEnumerateOptions}).
 * @throws ArgumentError naming `default`, `expand` or `numSamples` for a bad value.
 * @example
 * ```ts
 * const elbo = new TraceEnumELBO();
 * const svi = new SVI(configEnumerate(model), guide, tf.train.adam(0.05), elbo);
 * configEnumerate(guide, 'sequential'); // Pyro's config_enumerate(guide, "sequential")
 * configEnumerate(model, 'parallel', { numSamples: 16 }); // sampled enumeration
 * ```
 */
export function configEnumerate<A extends unknown[], R>(
  fn: Fn<A, R>,
  mode: 'parallel' | 'sequential' = 'parallel',
  options: ConfigEnumerateOptions = {},
): Fn<A, R> {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `configEnumerate: expected a function, got ${typeof fn}`);
  }
  if (mode !== 'parallel' && mode !== 'sequential') {
    throw new ArgumentError(
      'default',
      `configEnumerate: expected 'parallel' or 'sequential', got ${JSON.stringify(mode)}`,
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(
      'options',
      `configEnumerate: expected an object, got ${String(options)}`,
    );
  }
  checkOptionKeys(options, ['expand', 'numSamples'], 'configEnumerate');
  const { expand, numSamples } = options;
  if (expand !== undefined && typeof expand !== 'boolean') {
    throw new ArgumentError('expand', `configEnumerate: expected a boolean, got ${String(expand)}`);
  }
  if (numSamples !== undefined) {
    checkNumSamples(numSamples, 'configEnumerate');
    if (mode !== 'parallel') {
      throw new ArgumentError(
        'numSamples',
        `configEnumerate: numSamples is only compatible with 'parallel' (got '${mode}'), as in Pyro`,
      );
    }
  }
  const extra: Record<string, unknown> = {};
  if (expand !== undefined) extra.expand = expand;
  return inferConfig(fn, (msg) => {
    if (msg.type !== 'sample' || msg.isObserved || msg.fn === null) return {};
    if (numSamples !== undefined) return { enumerate: mode, numSamples, ...extra };
    return msg.fn.support.isDiscrete ? { enumerate: mode, ...extra } : {};
  });
}

/** Throw naming `numSamples` unless it is an integer >= 1. */
function checkNumSamples(n: unknown, who: string): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new ArgumentError('numSamples', `${who}: expected an integer >= 1, got ${String(n)}`);
  }
}

/**
 * Throw unless the unobserved discrete site `msg` can be enumerated in parallel: a finite support
 * (see {@link isEnumerable}) and no other `enumerate`
 * annotation. Its message names `who` (the inference that enumerates it) and the site.
 */
export function checkEnumerable(msg: Message, who: string): void {
  const fn = msg.fn;
  if (fn === null) return;
  const e = msg.infer.enumerate;
  if (e !== undefined && e !== 'parallel') {
    throw new ArgumentError(
      'model',
      `${who}: discrete latent site '${msg.name}' asks for enumerate: '${String(e)}'; ${who} ` +
        "enumerates discrete latent sites in parallel (use enumerate: 'parallel' or none)",
    );
  }
  if (isEnumerable(fn)) return;
  throw new ArgumentError(
    'model',
    `${who}: latent site '${msg.name}' has the discrete support '${fn.support.name}' of ` +
      `${fn.name}, which cannot be enumerated (summed out); ${who} needs every discrete latent ` +
      'to have a finite support (a boolean or one integer interval for the whole batch with no ' +
      'event dims, or one-hot vectors): observe it, or write it with a finite support (e.g. a Categorical over a ' +
      'truncated range 0..K) or marginalize it out by hand',
  );
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

/** Adds `config(msg)` to the `infer` annotations of every site (Pyro's `infer_config`). */
export class InferConfigMessenger extends Messenger {
  constructor(private readonly config: (msg: Message) => Record<string, unknown>) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' && msg.type !== 'param') return;
    msg.infer = { ...this.config(msg), ...msg.infer };
  }
}

/**
 * Annotate the sites of `fn` with `infer` options computed from each message (site options set
 * in the model win).
 *
 * @example
 * ```ts
 * const m = inferConfig(model, (msg) => (msg.name === 'z' ? { enumerate: 'parallel' } : {}));
 * ```
 */
export function inferConfig<A extends unknown[], R>(
  fn: Fn<A, R>,
  config: (msg: Message) => Record<string, unknown>,
): Fn<A, R> {
  if (typeof config !== 'function') throw new ArgumentError('config', 'expected a function');
  return wrapWith(fn, () => new InferConfigMessenger(config));
}
