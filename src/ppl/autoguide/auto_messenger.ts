/**
 * The effect-handler autoguides (Pyro's `GuideMessenger`/`AutoMessenger`): the guide runs the
 * model itself, under a handler that replaces the distribution `p(z | upstream)` of every latent
 * site, as the model reaches it, by a posterior `q(z | upstream)` from {@link
 * AutoMessenger.getPosterior}. So a site's guide may depend on the model's arguments, plates and
 * the values drawn upstream (through `prior`, `upstreamValue(name)` or `args`), and subclasses
 * override `getPosterior` for chosen sites:
 *
 * $$q(z_1, \dots, z_n) = \prod_i q_i\big(z_i \mid p(z_i \mid z_{<i}),\ \text{args}\big)$$
 *
 * Outer handlers (SVI's traces, `Predictive`, `seed`) see only the latent sites, with the
 * posterior as their distribution and the model's plates as their `cond`; observed,
 * deterministic and factor sites of the model are hidden from them (they are not part of `q`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Bijector } from '../../bijectors/bijector.js';
import type { Distribution } from '../../distributions/distribution.js';
import { bijectTo } from '../../distributions/transform_to.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { makeRng } from '../../utils/seed.js';
import { Delta } from '../../distributions/delta.js';
import { initSiteValue, resolveInit, type ResolvedInit } from '../init_strategy.js';
import { activePlateNesting } from '../handlers/plate.js';
import { Messenger, type Fn } from '../messenger.js';
import { HANDLER_STACK, type Message, type PlateFrame } from '../runtime.js';
import type { InitLoc } from './prototype.js';

/** Options of every {@link AutoMessenger}. */
export interface AutoMessengerOptions {
  /** Prefix of the guide's parameter names (default: the class name). */
  prefix?: string;
  /**
   * Names of plates over which the guide's parameters are shared (Pyro's `amortized_plates`):
   * a local latent in such a plate gets one parameter for all members (useful with subsampling).
   */
  amortizedPlates?: readonly string[];
}

/** What a subclass's `getPosterior` may return: a distribution, or a value (a point mass). */
export type PosteriorOrValue = Distribution | tf.Tensor;

/** The handler that runs inside the guide's call. */
class GuideHandler extends Messenger {
  /** Depth of `getPosterior` calls: their own `param`/`sample` sites pass untouched. */
  private depth = 0;
  constructor(private readonly guide: AutoMessenger<never>) {
    super();
  }
  override processMessage(msg: Message): void {
    if (this.depth > 0) return;
    if (msg.type === 'subsample') return; // passes: the model's plate replays the guide's draw
    if (msg.type !== 'sample') return;
    if (msg.isObserved) {
      // observed, deterministic and factor sites belong to p, not to q: hidden from outer handlers
      msg.stop = true;
      return;
    }
    const prior = msg.fn as Distribution;
    let posterior: PosteriorOrValue;
    this.depth++;
    try {
      posterior = this.guide.posteriorAt(msg.name, prior, msg.cond);
    } finally {
      this.depth--;
    }
    let q: Distribution =
      posterior instanceof tf.Tensor ? new Delta(posterior, prior.eventShape.length) : posterior;
    const pb = prior.batchShape;
    const qb = q.batchShape;
    if (qb.length !== pb.length || qb.some((d, i) => d !== pb[i])) q = q.expand(pb);
    msg.fn = q;
  }
  override postprocessMessage(msg: Message): void {
    if (this.depth > 0) return;
    if (msg.type === 'subsample' && msg.value !== null) {
      this.guide.indices.set(msg.name, msg.value);
    } else if (msg.type === 'sample' && msg.value !== null) {
      this.guide.upstream.set(msg.name, msg.value);
      if (!msg.isObserved) this.guide.latents.set(msg.name, msg.value);
    }
  }
}

/** The init strategy of an `initLoc` option (checked, naming `initLoc`). */
export function resolveInitLoc(initLoc: InitLoc | undefined): InitLoc {
  const s = initLoc ?? 'mean';
  if (typeof s !== 'function') resolveInit(s, 'initLoc');
  return s;
}

/**
 * The base of the effect-handler autoguides (Pyro's `AutoMessenger`): subclasses implement
 * {@link getPosterior}. Callable as `guide.call(...args)` (by SVI, `Predictive`, `trace`): it runs
 * the model under its handler and returns the latent sites' values by name.
 */
export abstract class AutoMessenger<A extends unknown[]> {
  readonly prefix: string;
  readonly amortizedPlates: readonly string[];
  /** The model's arguments during a call (Pyro's `args_kwargs`), for amortized posteriors. */
  protected args: A | undefined;
  /** @internal values of the sites reached so far in this call (latent and observed). */
  readonly upstream = new Map<string, tf.Tensor>();
  /** @internal the latent values of this call. */
  readonly latents = new Map<string, tf.Tensor>();
  /** @internal the subsample indices drawn in this call, by plate name. */
  readonly indices = new Map<string, tf.Tensor>();
  private plates: readonly PlateFrame[] = [];
  /** Batch dims held by plates around the call (outer plates, e.g. vectorized particles). */
  private outerNesting = 0;

  /**
   * @param model the model.
   * @param options the guide's options.
   * @param defaultPrefix the parameter-name prefix when `options.prefix` is not given.
   * @param extraKeys the subclass's own option names.
   */
  constructor(
    readonly model: Fn<A, unknown>,
    options: AutoMessengerOptions,
    defaultPrefix: string,
    extraKeys: readonly string[] = [],
  ) {
    if (typeof model !== 'function') throw new ArgumentError('model', 'expected a function');
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['prefix', 'amortizedPlates', ...extraKeys], defaultPrefix);
    if (
      options.prefix !== undefined &&
      (typeof options.prefix !== 'string' || options.prefix.length === 0)
    ) {
      throw new ArgumentError(
        'prefix',
        `expected a non-empty string, got ${String(options.prefix)}`,
      );
    }
    this.prefix = options.prefix ?? defaultPrefix;
    const ap = options.amortizedPlates ?? [];
    if (!Array.isArray(ap) || ap.some((p) => typeof p !== 'string')) {
      throw new ArgumentError('amortizedPlates', 'expected an array of plate names');
    }
    this.amortizedPlates = [...(ap as string[])];
  }

  /**
   * The posterior of site `name` given its prior `p(z | upstream)` (Pyro's `get_posterior`): a
   * distribution with the prior's support, or a value. May create parameters with `param`;
   * `this.upstreamValue(n)` and `this.args` give the upstream values and the model's arguments.
   * @param name the site's name.
   * @param prior the site's distribution in the model, at the upstream values drawn in this call.
   */
  abstract getPosterior(name: string, prior: Distribution): PosteriorOrValue;

  /** @internal */
  posteriorAt(name: string, prior: Distribution, cond: readonly PlateFrame[]): PosteriorOrValue {
    this.plates = cond;
    return this.getPosterior(name, prior);
  }

  /** The value of an upstream site of this call (sample or observed), or `undefined`. */
  upstreamValue(name: string): tf.Tensor | undefined {
    return this.upstream.get(name);
  }

  /**
   * The guide: runs the model under the guide's handler, each latent site drawn from its
   * posterior; returns the latent values by site name. Called with no handler active (to draw
   * from the posterior), only the returned values outlive the call.
   */
  call(...args: A): Record<string, tf.Tensor> {
    const run = (): Record<string, tf.Tensor> => {
      this.args = args;
      this.outerNesting = activePlateNesting();
      this.upstream.clear();
      this.latents.clear();
      this.indices.clear();
      try {
        new GuideHandler(this as unknown as AutoMessenger<never>).run(() => this.model(...args));
        return Object.fromEntries(this.latents);
      } finally {
        this.args = undefined;
        this.upstream.clear();
        this.latents.clear();
        this.indices.clear();
        this.plates = [];
        this.outerNesting = 0;
      }
    };
    return HANDLER_STACK.length === 0 ? tf.tidy(run) : run();
  }

  /**
   * The shape of a per-site parameter of a site with `prior`, in the unconstrained space of
   * `bijector`: the site's plates (full size when subsampled) at their dims, 1 at batch dims no
   * model plate holds (outer plates such as vectorized particles) or an amortized plate holds,
   * leading ones dropped; then the unconstrained event shape.
   * @internal
   */
  protected paramShape(prior: Distribution, bijector: Bijector): number[] {
    const batch = prior.batchShape;
    const uShape = bijector.inverseShape([...batch, ...prior.eventShape]);
    const uEvent = uShape.slice(batch.length);
    const out = batch.map((d, i) => {
      const k = this.dimKind(i - batch.length);
      return k === 'shared' ? 1 : k === 'inherent' ? d : k.size;
    });
    while (out.length > 0 && out[0] === 1) out.shift();
    return [...out, ...uEvent];
  }

  /**
   * What batch dim `dim` of the current site is: a plate of the model (its frame), `'shared'`
   * (an amortized plate, or a plate around the guide's call such as vectorized particles: the
   * parameters do not vary along it) or `'inherent'` (the distribution's own batch dim).
   */
  private dimKind(dim: number): PlateFrame | 'shared' | 'inherent' {
    const f = this.plates.find((p) => p.dim === dim);
    if (f !== undefined) return this.amortizedPlates.includes(f.name) ? 'shared' : f;
    return -dim <= this.outerNesting ? 'shared' : 'inherent';
  }

  /**
   * The initial unconstrained value of a parameter of {@link paramShape}: the site's starting
   * point under `initLoc`, mapped by `bijector.inverse`, averaged over the dims the parameter
   * does not keep (outer and amortized plates) and over subsampled plates (then repeated to
   * their full size).
   * @internal
   */
  protected initUnconstrained(
    name: string,
    prior: Distribution,
    bijector: Bijector,
    initLoc: InitLoc,
    shape: readonly number[],
  ): tf.Tensor {
    return tf.tidy(() => {
      const full = [...prior.batchShape, ...prior.eventShape];
      let x: tf.Tensor;
      if (typeof initLoc === 'function') {
        const draw = prior.sample([]);
        x = initLoc(name, draw);
        if (!(x instanceof tf.Tensor) || x.size !== draw.size) {
          throw new ArgumentError(
            'initLoc',
            `site '${name}': expected an initial value of shape [${full.join(',')}]`,
          );
        }
        x = tf.reshape(x, full);
      } else {
        const s: ResolvedInit = resolveInit(initLoc, 'initLoc');
        const rng = makeRng();
        const seed = Math.floor(rng() * 2147483647);
        x = initSiteValue(
          s,
          { name, fn: prior, bijector, shape: full, seed, uniform: rng },
          'initLoc',
        );
      }
      return this.reduceToParam(bijector.inverse(tf.cast(x, 'float32')), prior, shape);
    });
  }

  /**
   * A tensor of the site's unconstrained shape reduced to {@link paramShape} (see
   * {@link initUnconstrained}).
   * @internal
   */
  protected reduceToParam(u: tf.Tensor, prior: Distribution, shape: readonly number[]): tf.Tensor {
    const nb = prior.batchShape.length;
    let v = u;
    for (let i = 0; i < nb; i++) {
      const f = this.dimKind(i - nb);
      if (f === 'shared') v = tf.mean(v, i, true);
      else if (f !== 'inherent' && f.subsampleSize !== f.size) {
        v = tf.broadcastTo(tf.mean(v, i, true), [
          ...v.shape.slice(0, i),
          f.size,
          ...v.shape.slice(i + 1),
        ]);
      }
    }
    return tf.reshape(v, [...shape]);
  }

  /**
   * A per-site parameter restricted to the members the current site's subsampled plates visit
   * (the indices their subsample sites drew in this call).
   * @internal
   */
  protected visited(name: string, p: tf.Tensor, prior: Distribution, eventRank: number): tf.Tensor {
    let out = p;
    const batchRank = p.rank - eventRank;
    for (const f of this.plates) {
      if (f.subsampleSize === f.size || this.amortizedPlates.includes(f.name)) continue;
      const axis = batchRank + f.dim;
      if (axis < 0) continue;
      const idx = this.indices.get(f.name);
      if (idx === undefined) {
        throw new ArgumentError(
          name,
          `latent site '${name}' is inside plate '${f.name}' subsampled with indices given by ` +
            'the model, which the guide cannot know: give the plate subsampleSize instead, or ' +
            `list it in amortizedPlates`,
        );
      }
      out = tf.gather(out, idx, axis);
    }
    void prior;
    return out;
  }

  /** `bijectTo(prior.support)`, refusing discrete supports naming the site. @internal */
  protected bijectorOf(name: string, prior: Distribution): Bijector {
    const support = prior.support;
    if (support.isDiscrete) {
      throw new ArgumentError(
        name,
        `latent site '${name}' has the discrete support ${support.name}: ${this.prefix} covers ` +
          'continuous sites (use AutoDiscreteParallel for enumerable discrete sites, or ' +
          'override getPosterior for this site)',
      );
    }
    return bijectTo(support);
  }
}
