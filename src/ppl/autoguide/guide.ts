/**
 * The base of the autoguides (Pyro's `AutoGuide`): a guide built from the model's prototype trace
 * ({@link latentSpecs}), callable as `guide.call(...args)`, with posterior summaries in the
 * constrained space of every site: `median()`, `quantiles(qs)` and `getPosterior()`.
 */
import * as tf from '@tensorflow/tfjs';
import { normalQuantile as quantile } from '../../utils/normal_quantile.js';
import { resolveInit } from '../init_strategy.js';
import { ArgumentError } from '../../utils/errors.js';
import { HANDLER_STACK, subsample } from '../runtime.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { Fn } from '../messenger.js';
import {
  disposePrototype,
  latentSpecs,
  type InitLoc,
  type LatentSpec,
  type Prototype,
} from './prototype.js';

/** Options of the autoguides. */
export interface AutoGuideOptions {
  /** Prefix of the guide's parameter names. */
  prefix?: string;
  /** Initial scale of the Normal guides (in the unconstrained space). Default 0.1 (as Pyro). */
  initScale?: number;
  /** Initial locations (see {@link InitLoc}); default `'feasible'`. */
  initLoc?: InitLoc;
}

/** Standard normal quantiles `Phi^{-1}(q)` of the levels `qs` (each in (0, 1)). */
export function normalQuantiles(qs: readonly number[]): number[] {
  if (!Array.isArray(qs) || qs.length === 0) {
    throw new ArgumentError('quantiles', 'expected a non-empty array of levels in (0, 1)');
  }
  return qs.map((q) => {
    if (!(typeof q === 'number' && q > 0 && q < 1)) {
      throw new ArgumentError('quantiles', `expected levels in (0, 1), got ${q}`);
    }
    return quantile(q, 0, 1);
  });
}

/**
 * Common frame: the model, a parameter prefix and the prototype made on the first call.
 */
export abstract class AutoGuide<A extends unknown[]> {
  readonly prefix: string;
  protected readonly initLoc: InitLoc;
  private proto: Prototype | undefined;

  /**
   * @param model the model.
   * @param options the guide's options.
   * @param defaultPrefix the parameter-name prefix when `options.prefix` is not given.
   * @param extraKeys the subclass's own option names (beyond {@link AutoGuideOptions}).
   */
  constructor(
    readonly model: Fn<A, unknown>,
    options: AutoGuideOptions,
    defaultPrefix: string,
    extraKeys: readonly string[] = [],
  ) {
    if (typeof model !== 'function') throw new ArgumentError('model', 'expected a function');
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['prefix', 'initScale', 'initLoc', ...extraKeys], defaultPrefix);
    this.prefix = options.prefix ?? defaultPrefix;
    this.initLoc = options.initLoc ?? 'feasible';
    if (typeof this.initLoc !== 'function') resolveInit(this.initLoc, 'initLoc'); // checked now
  }

  /** The latent sites, discovered by running the model once on the first call. */
  protected setup(args: A): LatentSpec[] {
    this.proto ??= latentSpecs(this.model, args, this.initLoc, this.perSite);
    return this.proto.specs;
  }

  /**
   * Whether the guide is per site (`AutoNormal`, `AutoDelta`): then a local latent inside a
   * subsampled plate gets full-size parameters of which each run uses the visited members.
   */
  protected get perSite(): boolean {
    return false;
  }

  /**
   * The latent sites of the model given its arguments: the prototype, made by running the model
   * once on the first call (no parameters are created). {@link AutoGuideList} reads its parts'
   * sites through it before any part runs.
   */
  latentSites(...args: A): LatentSpec[] {
    return this.setup(args);
  }

  /**
   * The names of the sites the guide draws (Pyro's guide sites), given the model's arguments:
   * by default those of {@link AutoGuide.latentSites}; a discrete guide names its discrete
   * sites. {@link AutoGuideList} checks its parts' names disjoint with it.
   */
  siteNames(...args: A): string[] {
    return this.latentSites(...args).map((s) => s.name);
  }

  /** The latent sites (after the first call). */
  get specs(): LatentSpec[] {
    if (this.proto === undefined) {
      throw new ArgumentError('guide', 'call the guide (or take one SVI step) first');
    }
    return this.proto.specs;
  }

  /** The guide: draws every latent site of the model; returns the values by site name. */
  abstract call(...args: A): Record<string, tf.Tensor>;

  /**
   * Run a guide's `call` body: under handlers (SVI, `trace`, Predictive) as it is, the handlers
   * owning the site tensors; called on its own (`guide.call()` to draw from the posterior, no
   * handler active) inside `tf.tidy`, so that only the returned values outlive the call (the
   * sites' distributions and intermediates were left behind: 4 tensors per `AutoNormal` call
   * of a two-site model, 18 per `AutoMultivariateNormal`).
   */
  protected standalone(body: () => Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    return HANDLER_STACK.length === 0 ? tf.tidy(body) : body();
  }

  /**
   * Posterior medians in the constrained space, new tensors by site name. As Pyro's
   * `guide.median(*args)`, the model's arguments may be given: a guide never called yet is then
   * set up with them first (its parameters at their initial values); otherwise they are not used.
   */
  abstract median(...args: A | []): Record<string, tf.Tensor>;

  /**
   * Set the guide up with the model's arguments when it has never been called (Pyro's
   * `_setup_prototype(*args)` before `median`); the draws of that call are freed.
   */
  protected setUpWith(args: A | []): void {
    if (this.proto === undefined && args.length > 0) {
      const drawn = this.call(...(args as A));
      tf.dispose(Object.values(drawn));
    }
  }

  /**
   * Marginal posterior quantiles at the levels `qs`, by site: shape `[qs.length, ...siteShape]`.
   * @param qs levels in (0, 1), e.g. `[0.05, 0.5, 0.95]`.
   */
  abstract quantiles(qs: number[]): Record<string, tf.Tensor>;

  /**
   * `n` independent draws from the guide's posterior, by site: shape `[n, ...siteShape]`, in
   * the constrained space (new tensors). Checked against the `ArgumentError` rules first.
   * @param n number of draws.
   */
  abstract samplePosterior(n: number): Record<string, tf.Tensor>;

  /** Free the prototype's tensors (parameters stay in the param store). */
  dispose(): void {
    if (this.proto !== undefined) disposePrototype(this.proto);
    this.proto = undefined;
  }

  /** Initial values are needed only until the parameters exist. */
  protected releaseInits(): void {
    for (const s of this.proto?.specs ?? []) if (!s.init.isDisposed) s.init.dispose();
  }

  /** Map `f` over the sites into a record. */
  protected collect(f: (s: LatentSpec) => tf.Tensor): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.specs) out[s.name] = f(s);
    return out;
  }
}

/** Check a number of draws. */
export function checkNumSamples(n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new ArgumentError('numSamples', `expected an integer >= 1, got ${n}`);
  }
  return n;
}

/** Whether a support is the real line (with any event dims): no transform needed. */
export function isRealSupport(spec: LatentSpec): boolean {
  const c = spec.support as { kind: string; base?: { kind: string } };
  return c.kind === 'real' || (c.kind === 'independent' && c.base?.kind === 'real');
}

/**
 * The per-site parameters `params` (full size at each subsampled plate of `spec`) restricted to
 * the members visited in this run, and the factor `prod size / subsampleSize` by which the
 * site's log-density is scaled, as the model's plate scales its own. The plate's indices come from
 * its subsample site (drawn once per run and per plate, in `indices`; the model's plate replays
 * them).
 */
export function visitedMembers(
  spec: LatentSpec,
  params: tf.Tensor[],
  indices: Map<string, tf.Tensor>,
): { params: tf.Tensor[]; scale: number } {
  let out = params;
  let scale = 1;
  for (const p of spec.subsampled) {
    let idx = indices.get(p.name);
    if (idx === undefined) {
      idx = subsample(p.name, p.size, p.subsampleSize);
      indices.set(p.name, idx);
    }
    const i = idx;
    out = out.map((t) => tf.gather(t, i, p.axis));
    scale *= p.size / p.subsampleSize;
  }
  return { params: out, scale };
}
