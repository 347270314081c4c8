/**
 * `EasyGuide` (Pyro's `pyro.contrib.easyguide`): a base class for guides written by hand with
 * the help of the model's prototype trace (the model run once, blocked, on the first call). A
 * subclass writes `guide(...args)` and uses:
 *
 * - `this.plate(name, options?, fn)`: the model's plate of that name (its size, dim and
 *   subsampling read from the prototype unless given), its indices shared by every use in one
 *   guide call;
 * - `this.group({match})`: the continuous latent sites whose names match the regular
 *   expression (at their start, as Python's `re.match`), packed into one unconstrained vector:
 *   `group.eventShape = [E]`, `group.sample(guideName, fn)` draws the joint `u ~ fn` (event
 *   `[E]`) at an auxiliary site and replays every member site `s` as the point mass at
 *
 *   $$z_s = T_s(u_s),\qquad \log q(z_s) \mathrel{+}= -\log\lvert\det J_{T_s}(u_s)\rvert$$
 *
 *   (`T_s = bijectTo(support_s)`, `u_s` its slice, Pyro's `Delta(log_density)`), inside the
 *   site's plates: the dims of the plates common to all members stay batch dims of the joint
 *   (sample it inside `this.plate`), every other dim is flattened into `E`;
 * - `this.mapEstimate(name)`: the site as a point mass at a parameter in its support (a MAP
 *   estimate), full-size over a subsampled plate and gathered at the visited members.
 *
 * `easyGuide(model, fn)` is Pyro's `@easy_guide(model)` decorator: `fn(self, ...args)` is the
 * guide method.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { checkOptionKeys } from '../../../utils/options.js';
import { Delta } from '../../../distributions/delta.js';
import { plate as pyroPlate, PlateMessenger } from '../../handlers/plate.js';
import type { Fn } from '../../messenger.js';
import { HANDLER_STACK, param, sample, type PlateFrame } from '../../runtime.js';
import type { Trace } from '../../trace.js';
import { Group, type GroupOptions } from './group.js';
import { plateArgs, type EasyPlateOptions } from './plate_options.js';
import { buildPrototype, prototypeFrame, type Prototype, type PrototypeSite } from './prototype.js';
import type { InitLoc } from '../../autoguide/prototype.js';
import { resolveInit } from '../../init_strategy.js';

/** Options of {@link EasyGuide}. */
export interface EasyGuideOptions {
  /** Prefix of the guide's parameter names (`mapEstimate`). Default `'EasyGuide'`. */
  prefix?: string;
  /**
   * How the prototype's continuous latent sites start (Pyro's overridable `EasyGuide.init`):
   * an init strategy (`'median'`, `initToValue({...})`, ...) or a function
   * `(name, priorDraw) => value`. The prototype's values are where `mapEstimate` starts.
   * Default: a prior draw (Pyro's `site["fn"]()`).
   */
  init?: InitLoc;
}

/**
 * The base of hand-written guides with the model's prototype at hand (Pyro's `EasyGuide`).
 *
 * @example
 * ```ts
 * class MyGuide extends EasyGuide<[tf.Tensor]> {
 *   guide(x: tf.Tensor): void {
 *     const g = this.group({ match: 'beta|sigma' });      // a joint over the globals
 *     const loc = param('loc', () => tf.zeros(g.eventShape));
 *     const scaleTril = param('scale_tril', () => tf.eye(g.eventShape[0] as number), {
 *       constraint: lowerCholesky,
 *     });
 *     g.sample('joint', new MultivariateNormal(loc, { scaleTril }));
 *     this.plate('data', {}, () => this.mapEstimate('z')); // MAP of the locals
 *   }
 * }
 * const guide = new MyGuide(model);
 * new SVI(model, guide, tf.train.adam(0.01), new TraceELBO()).step(x);
 * ```
 */
export abstract class EasyGuide<A extends unknown[], R = unknown> {
  readonly prefix: string;
  /** How the prototype's latent sites start (default: prior draws). */
  readonly init: InitLoc | undefined;
  private proto: Prototype | undefined;
  /** The indices of each plate used in the current guide call. */
  private readonly plates = new Map<string, tf.Tensor>();
  private readonly groups = new Map<string, Group<A>>();

  /**
   * @param model the model.
   * @param options `prefix`.
   * @throws ArgumentError naming `model` or a bad or unknown option.
   */
  constructor(
    readonly model: Fn<A, unknown>,
    options: EasyGuideOptions = {},
  ) {
    if (typeof model !== 'function') throw new ArgumentError('model', 'expected a function');
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['prefix', 'init'], 'EasyGuide');
    if (options.init !== undefined && typeof options.init !== 'function') {
      resolveInit(options.init, 'init');
    }
    this.init = options.init;
    if (
      options.prefix !== undefined &&
      (typeof options.prefix !== 'string' || options.prefix === '')
    ) {
      throw new ArgumentError(
        'prefix',
        `expected a non-empty string, got ${String(options.prefix)}`,
      );
    }
    this.prefix = options.prefix ?? 'EasyGuide';
  }

  /** The guide (Pyro's `EasyGuide.guide`): draws every latent site of the model. */
  abstract guide(...args: A): R;

  /** Run the model once, blocked, and keep its continuous latent sites (Pyro's prototype). */
  private setup(args: A): void {
    if (this.proto !== undefined) return;
    this.proto = buildPrototype(this.model, args, this.init);
  }

  /** The model's prototype trace (after the first call). */
  get prototypeTrace(): Trace {
    return this.requireProto().trace;
  }

  private requireProto(): Prototype {
    if (this.proto === undefined) {
      throw new ArgumentError('guide', 'call the guide (or take one SVI step) first');
    }
    return this.proto;
  }

  /** The model's continuous latent sites in order (after the first call). */
  get prototypeSites(): PrototypeSite[] {
    return [...this.requireProto().sites.values()];
  }

  /**
   * Run the guide (Pyro's `__call__`): the prototype is made on the first call; the plates'
   * indices are forgotten after each call. Called on its own (no handler), inside `tf.tidy`.
   */
  call(...args: A): R {
    this.setup(args);
    const run = (): R => {
      try {
        return this.guide(...args);
      } finally {
        this.plates.clear();
      }
    };
    return HANDLER_STACK.length === 0
      ? (tf.tidy(() => run() as unknown as tf.TensorContainer) as unknown as R)
      : run();
  }

  /** A prototype site by name, or an `ArgumentError` naming it. */
  private site(name: string): PrototypeSite {
    const s = this.requireProto().sites.get(name);
    const why = this.requireProto().unsupported.get(name);
    if (why !== undefined) {
      throw new ArgumentError(
        name,
        `site '${name}' has no bijection from the reals onto its support, so no MAP or group ` +
          `value can be made for it (${why})`,
      );
    }
    if (s === undefined) {
      const known = [...this.requireProto().sites.keys()].join(', ');
      throw new ArgumentError(
        name,
        `'${name}' is not a continuous latent site of the model (its sites: ${known})`,
      );
    }
    return s;
  }

  /** The model's plate frame of that name, if a latent site is in it. */
  private frame(name: string): PlateFrame | undefined {
    return prototypeFrame(this.requireProto(), name);
  }

  /**
   * The model's plate `name` around `fn` (Pyro's `EasyGuide.plate`): size, dim and subsampling
   * from the prototype unless given; every use in one guide call visits the same members.
   * @param name the plate's name. @param options see {@link EasyPlateOptions}.
   * @param fn the body, given the visited indices.
   * @throws ArgumentError naming the plate when the model has none of that name and no size is given.
   */
  plate<T>(
    name: string,
    options: EasyPlateOptions | number | ((idx: tf.Tensor) => T),
    fn?: ((idx: tf.Tensor) => T) | EasyPlateOptions,
    body3?: (idx: tf.Tensor) => T,
  ): T {
    const { o, body } = plateArgs(name, options, fn, body3);
    const f = this.frame(name);
    const size = o.size ?? f?.size;
    if (size === undefined) {
      throw new ArgumentError(
        name,
        `plate '${name}' is not a plate of the model's latent or observed sites: give its size`,
      );
    }
    const dim = o.dim ?? f?.dim;
    const run = body;
    const seen = this.plates.get(name);
    const record = (idx: tf.Tensor): T => {
      this.plates.set(name, idx);
      return run(idx);
    };
    const dimOpt = dim === undefined ? {} : { dim };
    if (seen !== undefined) return pyroPlate(name, size, { subsample: seen, ...dimOpt }, run);
    if (o.subsample !== undefined) {
      return pyroPlate(name, size, { subsample: o.subsample, ...dimOpt }, record);
    }
    const k = o.subsampleSize ?? (f !== undefined && f.size === size ? f.subsampleSize : size);
    return pyroPlate(name, size, { subsampleSize: k, ...dimOpt }, record);
  }

  /** Whether a plate of that name is active (in the handler stack). */
  private static plateActive(name: string): boolean {
    return HANDLER_STACK.some((h) => h instanceof PlateMessenger && h.frame.name === name);
  }

  /** `fn` inside the site's model plates that are not active yet (outermost first). @internal */
  inSitePlates<T>(s: PrototypeSite, fn: () => T): T {
    // cond lists the outermost plate first (as Pyro's cond_indep_stack): entered in that order
    const missing = s.cond.filter((f) => !EasyGuide.plateActive(f.name));
    const run = (i: number): T => {
      const f = missing[i];
      return f === undefined ? fn() : this.plate(f.name, {}, () => run(i + 1));
    };
    return run(0);
  }

  /**
   * The continuous latent sites whose names match `match` at their start, as one {@link Group}
   * (cached by the pattern). Sites whose support no bijection from the reals covers (a
   * `ProjectedNormal`) are left to the guide's own statements.
   * @throws ArgumentError naming `match` when no site matches.
   */
  group(options: GroupOptions = {}): Group<A> {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(options, ['match'], 'group');
    const m = options.match ?? '.*';
    if (typeof m !== 'string' && !(m instanceof RegExp)) {
      throw new ArgumentError('match', `expected a string or RegExp, got ${String(m)}`);
    }
    const key = m instanceof RegExp ? `/${m.source}/${m.flags}` : m;
    const cached = this.groups.get(key);
    if (cached !== undefined) return cached;
    const src = m instanceof RegExp ? m.source : m;
    const re = new RegExp(`^(?:${src})`, m instanceof RegExp ? m.flags.replace('g', '') : '');
    const sites = this.prototypeSites.filter((s) => re.test(s.name));
    if (sites.length === 0) {
      throw new ArgumentError(
        'match',
        `no continuous latent site of the model matches ${String(m)} (its sites: ` +
          `${this.prototypeSites.map((s) => s.name).join(', ')})`,
      );
    }
    const g = new Group(this, sites);
    this.groups.set(key, g);
    return g;
  }

  /** The name of the MAP parameter of site `name`. */
  mapParamName(name: string): string {
    return `${this.prefix}.map.${name}`;
  }

  /**
   * The site `name` as a point mass at a learned value in its support (Pyro's `map_estimate`):
   * a parameter `${prefix}.map.${name}` constrained to the support, started at the prototype's
   * value (over a subsampled plate: full size, the visited members gathered), drawn inside the
   * site's plates.
   * @throws ArgumentError naming the site when it is not a continuous latent site.
   */
  mapEstimate(name: string): tf.Tensor {
    const s = this.site(name);
    const batchRank = s.shape.length - s.eventDim;
    const sub = s.cond.filter((f) => f.subsampleSize !== f.size);
    const all = param(
      this.mapParamName(name),
      () =>
        tf.tidy(() => {
          let v = tf.cast(s.value, 'float32');
          for (const f of sub) {
            const idx = tf.tensor1d(
              Array.from({ length: f.size }, (_, i) => i % f.subsampleSize),
              'int32',
            );
            v = tf.gather(v, idx, batchRank + f.dim);
          }
          return v;
        }),
      { constraint: s.support },
    );
    return this.inSitePlates(s, () => {
      let v = all;
      for (const f of sub) {
        const idx = this.plates.get(f.name);
        if (idx !== undefined) v = tf.gather(v, idx, batchRank + f.dim);
      }
      return sample(name, new Delta(v, s.eventDim));
    });
  }

  /** Free the prototype (parameters stay in the param store). */
  dispose(): void {
    if (this.proto === undefined) return;
    for (const s of this.proto.sites.values()) s.bijector.dispose();
    this.proto.trace.dispose();
    this.proto = undefined;
    this.groups.clear();
  }
}
