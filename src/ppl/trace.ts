/**
 * An execution trace: the ordered record of every site of one run of a model, with the site's
 * distribution, final value, scale, mask and plates (Pyro's `Trace`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { Message } from './runtime.js';
import { formatShapes, type FormatShapesOptions } from './format_shapes.js';

/** A distribution that sums its log-density itself (fused, e.g. `Normal.logProbSum`). */
interface SummedLogProb {
  logProbSum(value: tf.Tensor): tf.Tensor;
}

function hasLogProbSum(d: object): d is SummedLogProb {
  return typeof (d as Partial<SummedLogProb>).logProbSum === 'function';
}

/**
 * The mask of sample site `site` (a tensor) as a bool tensor of the site's log-probability
 * shape `shape`: the mask must broadcast to it (numpy rules, no dims added to `shape`).
 * @throws ArgumentError naming the site and both shapes otherwise.
 */
export function siteMask(site: Message, shape: readonly number[]): tf.Tensor {
  const m = site.mask as tf.Tensor;
  const fits =
    m.rank <= shape.length &&
    m.shape.every((d, i) => d === 1 || d === shape[shape.length - m.rank + i]);
  if (!fits) {
    throw new ArgumentError(
      site.name,
      `sample site '${site.name}': its mask of shape [${m.shape.join(',')}] does not broadcast ` +
        `to the site's log-probability shape [${shape.join(',')}] (its batch shape)`,
    );
  }
  return tf.broadcastTo(tf.cast(m, 'bool'), [...shape]);
}

/**
 * `t` times the site's elementwise scale (a `scale` handler given a tensor), which must
 * broadcast to `t`'s shape (the site's batch shape); `t` itself when the site has none.
 * @throws ArgumentError naming the site and both shapes.
 */
export function applySiteScaleTensor(site: Message, t: tf.Tensor): tf.Tensor {
  // (messages built by hand, without the field, have none)
  const w = site.scaleTensor as tf.Tensor | null | undefined;
  if (w === null || w === undefined) return t;
  const shape = t.shape;
  const fits =
    w.rank <= shape.length &&
    w.shape.every((d, i) => d === 1 || d === shape[shape.length - w.rank + i]);
  if (!fits) {
    throw new ArgumentError(
      site.name,
      `sample site '${site.name}': its scale of shape [${w.shape.join(',')}] does not broadcast ` +
        `to the site's log-probability shape [${shape.join(',')}] (its batch shape)`,
    );
  }
  return tf.mul(t, w);
}

/**
 * The masked, scaled log-probability of one sample site, elementwise over its batch shape:
 * `scale * w * (mask ? log p(value) : 0)` with `w` the elementwise scale. Not tidied (call inside a tidy).
 * @param site the sample site. @param scale the factor (default the site's `scale`).
 */
export function siteLogProb(site: Message, scale: number = site.scale): tf.Tensor {
  if (site.fn === null || site.value === null) return tf.scalar(0);
  let lp = site.fn.logProb(site.value);
  if (site.mask === false) lp = tf.zerosLike(lp);
  else if (site.mask instanceof tf.Tensor) {
    lp = tf.where(siteMask(site, lp.shape), lp, tf.zerosLike(lp));
  }
  lp = applySiteScaleTensor(site, lp);
  return scale === 1 ? lp : tf.mul(lp, scale);
}

/**
 * The log-probability of one sample site, summed over all elements:
 * `scale * sum(mask ? log p(value) : 0)`. Unmasked sites of distributions with a `logProbSum`
 * method (Normal: one fused kernel forward and backward) use it instead of `sum(logProb)`.
 */
export function siteLogProbSum(site: Message): tf.Tensor {
  return tf.tidy(() => {
    if (site.fn === null || site.value === null) return tf.scalar(0);
    const w = site.scaleTensor as tf.Tensor | null | undefined;
    const plain = (site.mask === null || site.mask === true) && (w === null || w === undefined);
    if (plain && hasLogProbSum(site.fn)) {
      const total = site.fn.logProbSum(site.value);
      return site.scale === 1 ? total : tf.mul(total, site.scale);
    }
    return tf.sum(siteLogProb(site));
  });
}

/** The ordered sites of one model run. */
export class Trace {
  /** Sites by name, in execution order. */
  readonly nodes = new Map<string, Message>();
  private kept: tf.Tensor[] = [];
  private readonly logProbs = new Map<string, tf.Tensor>();

  /** Record a site; two sites with the same name in one run are an error. */
  add(site: Message): void {
    if (this.nodes.has(site.name)) {
      throw new ArgumentError(
        'name',
        `site '${site.name}' appears twice in one run (site names must be unique)`,
      );
    }
    this.nodes.set(site.name, site);
  }

  /** The site `name`, or undefined. */
  get(name: string): Message | undefined {
    return this.nodes.get(name);
  }

  /** Whether a site `name` exists. */
  has(name: string): boolean {
    return this.nodes.has(name);
  }

  /** The value of site `name`; throws if absent. */
  value(name: string): tf.Tensor {
    const s = this.nodes.get(name);
    if (s === undefined || s.value === null) {
      throw new ArgumentError('name', `no site named '${name}' in trace`);
    }
    return s.value;
  }

  /**
   * The shape table of this trace (Pyro's `trace.format_shapes()` after `compute_log_prob()`):
   * per sample site `batchShape | eventShape` of its distribution, its value's shape split at the
   * event dims, and its log-density's shape; per param site its value's shape.
   *
   * @param options `title`, `lastSite`, `logProb` (default true).
   * @example
   * ```ts
   * console.log(trace(model).getTrace().formatShapes());
   * ```
   */
  formatShapes(options: FormatShapesOptions = {}): string {
    const lpShape = (site: Message): number[] => tf.tidy(() => [...siteLogProb(site).shape]);
    return formatShapes(this.sites(), lpShape, options);
  }

  /** All sites in execution order. */
  sites(): Message[] {
    return [...this.nodes.values()];
  }

  /** Sample sites (observed and latent). */
  sampleSites(): Message[] {
    return this.sites().filter((s) => s.type === 'sample');
  }

  /** Latent (non-observed) sample sites. */
  latentSites(): Message[] {
    return this.sampleSites().filter((s) => !s.isObserved);
  }

  /** Observed sample sites. */
  observedSites(): Message[] {
    return this.sampleSites().filter((s) => s.isObserved);
  }

  /** Param sites. */
  paramSites(): Message[] {
    return this.sites().filter((s) => s.type === 'param');
  }

  /**
   * `sum_sites scale * sum log p(value)` over the sample sites (optionally only those passing
   * `filter`), a scalar tensor.
   */
  logProbSum(filter?: (site: Message) => boolean): tf.Tensor {
    return tf.tidy(() => {
      let total: tf.Tensor = tf.scalar(0);
      for (const s of this.sampleSites()) {
        if (filter !== undefined && !filter(s)) continue;
        total = tf.add(total, siteLogProbSum(s));
      }
      return total;
    });
  }

  /**
   * Names of the latent sample sites, in execution order (Pyro's `trace.stochastic_nodes`):
   * `type = sample` and not observed (plates' subsample sites have their own type).
   */
  get stochasticNodes(): string[] {
    return this.latentSites().map((s) => s.name);
  }

  /** Names of the observed sample sites (Pyro's `trace.observation_nodes`). */
  get observationNodes(): string[] {
    return this.observedSites().map((s) => s.name);
  }

  /** Names of the param sites (Pyro's `trace.param_nodes`). */
  get paramNodes(): string[] {
    return this.paramSites().map((s) => s.name);
  }

  /**
   * Latent sites whose distribution has a reparameterized sampler, `x = g(θ, ε)` (Pyro's
   * `trace.reparameterized_nodes`): their gradients flow through the value.
   */
  get reparameterizedNodes(): string[] {
    return this.latentSites()
      .filter((s) => s.fn !== null && s.fn.hasRsample)
      .map((s) => s.name);
  }

  /** Latent sites without a reparameterized sampler (Pyro's `nonreparam_stochastic_nodes`). */
  get nonreparamStochasticNodes(): string[] {
    return this.latentSites()
      .filter((s) => s.fn === null || !s.fn.hasRsample)
      .map((s) => s.name);
  }

  /**
   * Each sample site's masked, scaled log-density over its batch shape (Pyro's
   * `trace.compute_log_prob(site_filter)`, whose `site["log_prob"]` this is):
   *
   * $$\ell_{\text{site}} = s \cdot w \odot \mathbb{1}[m] \odot \log p(x_{\text{site}}),$$
   *
   * with `s` the site's scale (plates' `N/n`, `scale`), `w` its elementwise scale and `m` its mask;
   * `sum(ℓ)` over the sites is {@link Trace.logProbSum}. The tensors belong to the trace (freed by
   * {@link Trace.dispose}); a second call returns the same tensors for the sites already computed.
   *
   * @param filter which sample sites to compute (default all).
   * @returns the log-densities by site name, in execution order.
   * @example
   * ```ts
   * const tr = trace(model).getTrace(data);
   * tr.computeLogProb().get('y')?.shape; // the plate's shape, e.g. [N]
   * tr.dispose();
   * ```
   */
  computeLogProb(filter?: (site: Message) => boolean): Map<string, tf.Tensor> {
    if (filter !== undefined && typeof filter !== 'function') {
      throw new ArgumentError(
        'filter',
        `computeLogProb: expected a function, got ${typeof filter}`,
      );
    }
    const out = new Map<string, tf.Tensor>();
    for (const s of this.sampleSites()) {
      if (filter !== undefined && !filter(s)) continue;
      let lp = this.logProbs.get(s.name);
      if (lp === undefined || lp.isDisposed) {
        lp = tf.keep(tf.tidy(() => siteLogProb(s)));
        this.logProbs.set(s.name, lp);
        this.kept.push(lp);
      }
      out.set(s.name, lp);
    }
    return out;
  }

  /**
   * Keep the tensors of this trace that were created after tensor id `startId` (site values and
   * tensors held by the sites' distributions) alive past the enclosing `tf.tidy`; they are freed
   * by {@link Trace.dispose}. Tensors that existed before the run (data, variables) and tensors
   * already kept by their owner (`tf.keep`, e.g. an autoguide's bijectors) are untouched.
   */
  keepCreatedAfter(startId: number): void {
    const seen = new Set<number>();
    const visit = (t: unknown): void => {
      if (!(t instanceof tf.Tensor) || t instanceof tf.Variable) return;
      // a tensor already kept belongs to whoever kept it (an autoguide's or the param store's
      // bijector made on this first run): freeing it with the trace would break its owner
      if (t.id <= startId || seen.has(t.id) || t.isDisposed || t.kept) return;
      seen.add(t.id);
      this.kept.push(tf.keep(t));
    };
    // distributions hold tensors in fields, arrays, and nested parts (an expanded or
    // transformed distribution's base, a bijector, a support's bounds): walk a few levels
    const objects = new Set<object>();
    const walk = (o: unknown, depth: number): void => {
      if (o instanceof tf.Tensor) return visit(o);
      if (depth > 4 || o === null || typeof o !== 'object' || objects.has(o)) return;
      objects.add(o);
      for (const v of Array.isArray(o) ? o : Object.values(o)) walk(v, depth + 1);
    };
    for (const s of this.nodes.values()) {
      visit(s.value);
      if (s.mask instanceof tf.Tensor) visit(s.mask);
      visit(s.scaleTensor);
      if (s.fn !== null) walk(s.fn, 0);
      // e.g. `uncondition`'s `infer.obs`: the value the site had before
      for (const v of Object.values(s.infer)) visit(v);
    }
  }

  /** Free the tensors kept by {@link Trace.keepCreatedAfter}. */
  dispose(): void {
    for (const t of this.kept) if (!t.isDisposed) t.dispose();
    this.kept = [];
    this.logProbs.clear();
  }
}

export { lastTensorId } from './keep.js';
