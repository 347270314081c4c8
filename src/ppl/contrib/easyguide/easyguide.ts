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
import type { Bijector } from '../../../bijectors/bijector.js';
import type { Constraint } from '../../../constraints/constraints.js';
import type { Distribution } from '../../../distributions/distribution.js';
import { bijectTo } from '../../../distributions/transform_to.js';
import { ArgumentError } from '../../../utils/errors.js';
import { checkOptionKeys } from '../../../utils/options.js';
import { Delta } from '../../delta.js';
import { block } from '../../handlers/block.js';
import { plate as pyroPlate, PlateMessenger } from '../../handlers/plate.js';
import { trace } from '../../handlers/trace.js';
import { keepCreated, lastTensorId } from '../../keep.js';
import type { Fn } from '../../messenger.js';
import { HANDLER_STACK, param, sample, type PlateFrame } from '../../runtime.js';
import type { Trace } from '../../trace.js';

/** A continuous latent site of the model's prototype trace, as the easy guide sees it. */
export interface PrototypeSite {
  /** The site's name. */
  name: string;
  /** Shape of its value in the prototype run (a subsampled plate at its subsample size). */
  shape: number[];
  /** Its event rank. */
  eventDim: number;
  /** Its support. */
  support: Constraint;
  /** `bijectTo(support)`, from the unconstrained reals onto the support. */
  bijector: Bijector;
  /** The plates around it in the model. */
  cond: PlateFrame[];
  /** Its value in the prototype run (a prior draw). */
  value: tf.Tensor;
}

/** Options of {@link EasyGuide.plate}: as `plate`'s, with the size optional. */
export interface EasyPlateOptions {
  /** Full size; default the model's plate's. */
  size?: number;
  /** Visit a random subset of this size; default the model's plate's subsample size. */
  subsampleSize?: number;
  /** The indices visited (e.g. the minibatch the model is given too). */
  subsample?: tf.Tensor | number[];
  /** The plate's dim; default the model's plate's. */
  dim?: number;
}

/** Options of {@link EasyGuide.group}. */
export interface GroupOptions {
  /**
   * The sites' names match this regular expression at their start (Python's `re.match`).
   * Default `'.*'` (every continuous latent site).
   */
  match?: string | RegExp;
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(',')}]`;
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * A group of latent sites sampled jointly (Pyro's `easyguide.Group`): their unconstrained values
 * packed into one vector of `eventShape = [E]`, the dims of their common plates kept as batch dims.
 */
export class Group<A extends unknown[]> {
  /** The joint's event shape `[E]`. */
  readonly eventShape: number[];
  /** The plates common to every member (their dims stay batch dims of the joint). */
  readonly commonFrames: PlateFrame[];
  /** Each member's unconstrained shape with 1 at the common plates' dims (flattened into `E`). */
  private readonly batchShapes = new Map<string, number[]>();
  private readonly sizes = new Map<string, number>();

  /**
   * @param guide the easy guide.
   * @param prototypeSites the member sites, in model order.
   */
  constructor(
    readonly guide: EasyGuide<A>,
    readonly prototypeSites: readonly PrototypeSite[],
  ) {
    const names = (s: PrototypeSite): Set<string> => new Set(s.cond.map((f) => f.name));
    const first = prototypeSites[0];
    this.commonFrames =
      first === undefined
        ? []
        : first.cond.filter((f) => prototypeSites.every((s) => names(s).has(f.name)));
    const common = new Set(this.commonFrames.map((f) => f.name));
    let e = 0;
    for (const s of prototypeSites) {
      const sub = s.cond.find((f) => f.subsampleSize !== f.size && !common.has(f.name));
      if (sub !== undefined) {
        throw new ArgumentError(
          s.name,
          `site '${s.name}' is inside the subsampled plate '${sub.name}', which not every ` +
            'site of the group is in: a group packs the dims of plates common to its sites as ' +
            'batch dims, and a subsampled plate must be one of them (make another group)',
        );
      }
      const u = s.bijector.inverseShape(s.shape);
      const batchRank = s.shape.length - s.eventDim;
      const b = u.slice(0, batchRank);
      for (const f of s.cond) if (common.has(f.name)) b[batchRank + f.dim] = 1;
      const size = prod(b) * prod(u.slice(batchRank));
      this.batchShapes.set(s.name, b);
      this.sizes.set(s.name, size);
      e += size;
    }
    this.eventShape = [e];
  }

  /** The member sites' names, in order. */
  get siteNames(): string[] {
    return this.prototypeSites.map((s) => s.name);
  }

  /**
   * Draw the joint at the auxiliary site `guideName` (Pyro's `Group.sample`) and replay every
   * member site at its slice, pushed into its support (see the module's formula).
   * @param guideName the auxiliary site's name.
   * @param fn the joint: event shape {@link Group.eventShape}, batch shape the common plates'.
   * @returns `[u, zs]`: the joint draw and the member sites' values by name.
   * @throws ArgumentError naming `guideName` when `fn` has another event shape.
   */
  sample(guideName: string, fn: Distribution): [tf.Tensor, Record<string, tf.Tensor>] {
    if (typeof guideName !== 'string' || guideName.length === 0) {
      throw new ArgumentError('guideName', `expected a non-empty string, got ${String(guideName)}`);
    }
    const ev = fn.eventShape;
    if (ev.length !== 1 || ev[0] !== this.eventShape[0]) {
      throw new ArgumentError(
        guideName,
        `group sample '${guideName}': expected a joint of event shape ` +
          `${shapeStr(this.eventShape)} (the group's sites ${this.siteNames.join(', ')} ` +
          `unconstrained and packed), got ${shapeStr(ev)} (declare the vector an event: toEvent(1))`,
      );
    }
    const u = sample(guideName, fn, { infer: { isAuxiliary: true } });
    const common = u.shape.slice(0, -1);
    const out: Record<string, tf.Tensor> = {};
    let pos = 0;
    for (const s of this.prototypeSites) {
      const size = this.sizes.get(s.name) as number;
      const b = this.batchShapes.get(s.name) as number[];
      const ue = s.bijector.inverseShape(s.shape).slice(s.shape.length - s.eventDim);
      const batch = broadcast(common, b, s.name);
      const begin = [...common.map(() => 0), pos];
      const part = tf.reshape(tf.slice(u, begin, [...common, size]), [...batch, ...ue]);
      pos += size;
      const { y, logDet } = s.bijector.forwardAndLogDet(part);
      const k = logDet.rank - (y.rank - s.eventDim);
      const ld =
        k > 0
          ? tf.sum(
              logDet,
              Array.from({ length: k }, (_, j) => logDet.rank - k + j),
            )
          : logDet;
      const delta = new Delta(y, s.eventDim, { logDensity: tf.neg(ld) });
      out[s.name] = this.guide.inSitePlates(s, () => sample(s.name, delta));
    }
    return [u, out];
  }
}

/** Right-aligned broadcast of two shapes (a member's batch against the joint's). */
function broadcast(a: readonly number[], b: readonly number[], site: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new ArgumentError(
        site,
        `site '${site}': the joint's batch shape ${shapeStr(a)} does not broadcast with the ` +
          `site's ${shapeStr(b)} (sample the group inside its common plates, this.plate(...))`,
      );
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Options of {@link EasyGuide}. */
export interface EasyGuideOptions {
  /** Prefix of the guide's parameter names (`mapEstimate`). Default `'EasyGuide'`. */
  prefix?: string;
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
  private proto: { trace: Trace; sites: Map<string, PrototypeSite> } | undefined;
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
    checkOptionKeys(options, ['prefix'], 'EasyGuide');
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
    const tr = block(() => trace(this.model).getTrace(...args))();
    const sites = new Map<string, PrototypeSite>();
    try {
      for (const s of tr.latentSites()) {
        const fn = s.fn;
        const v = s.value;
        if (fn === null || v === null || fn.support.isDiscrete) continue;
        if (s.infer.enumerate === 'parallel') continue;
        const start = lastTensorId();
        const bijector = bijectTo(fn.support);
        keepCreated(bijector, start);
        sites.set(s.name, {
          name: s.name,
          shape: [...v.shape],
          eventDim: fn.eventShape.length,
          support: fn.support,
          bijector,
          cond: [...s.cond],
          value: v,
        });
      }
    } catch (e) {
      for (const s of sites.values()) s.bijector.dispose();
      tr.dispose();
      throw e;
    }
    this.proto = { trace: tr, sites };
  }

  /** The model's prototype trace (after the first call). */
  get prototypeTrace(): Trace {
    return this.requireProto().trace;
  }

  private requireProto(): { trace: Trace; sites: Map<string, PrototypeSite> } {
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
    for (const s of this.requireProto().sites.values()) {
      const f = s.cond.find((c) => c.name === name);
      if (f !== undefined) return f;
    }
    for (const s of this.requireProto().trace.sampleSites()) {
      const f = s.cond.find((c) => c.name === name);
      if (f !== undefined) return f;
    }
    return undefined;
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
    // plate(name, fn), plate(name, options, fn), or as ppl.plate: plate(name, size, [options,] fn)
    let o: EasyPlateOptions;
    let body: unknown;
    if (typeof options === 'function') {
      o = {};
      body = options;
    } else if (typeof options === 'number') {
      const rest = typeof fn === 'function' ? {} : (fn ?? {});
      if (rest === null || typeof rest !== 'object') {
        throw new ArgumentError(
          'options',
          `plate '${name}': expected an object, got ${String(rest)}`,
        );
      }
      o = { ...rest, size: options };
      body = typeof fn === 'function' ? fn : body3;
    } else {
      o = options;
      body = fn;
    }
    if (typeof body !== 'function') {
      throw new ArgumentError('fn', `plate '${name}' needs a body function`);
    }
    if (o === null || typeof o !== 'object') {
      throw new ArgumentError('options', `plate '${name}': expected an object, got ${String(o)}`);
    }
    checkOptionKeys(o, ['size', 'subsampleSize', 'subsample', 'dim'], `plate '${name}'`);
    const f = this.frame(name);
    const size = o.size ?? f?.size;
    if (size === undefined) {
      throw new ArgumentError(
        name,
        `plate '${name}' is not a plate of the model's latent or observed sites: give its size`,
      );
    }
    const dim = o.dim ?? f?.dim;
    const run = body as (idx: tf.Tensor) => T;
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
    // cond lists the innermost plate first
    const missing = [...s.cond].reverse().filter((f) => !EasyGuide.plateActive(f.name));
    const run = (i: number): T => {
      const f = missing[i];
      return f === undefined ? fn() : this.plate(f.name, {}, () => run(i + 1));
    };
    return run(0);
  }

  /**
   * The continuous latent sites whose names match `match` at their start, as one {@link Group}
   * (cached by the pattern).
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

/** An {@link EasyGuide} whose guide method is a function. */
class FnEasyGuide<A extends unknown[], R> extends EasyGuide<A, R> {
  constructor(
    model: Fn<A, unknown>,
    private readonly fn: (self: EasyGuide<A, R>, ...args: A) => R,
    options: EasyGuideOptions,
  ) {
    super(model, options);
  }
  guide(...args: A): R {
    return this.fn(this, ...args);
  }
}

/**
 * An {@link EasyGuide} from a guide function (Pyro's `@easy_guide(model)` decorator):
 * `fn(self, ...args)` receives the guide for `self.plate`, `self.group`, `self.mapEstimate`.
 *
 * @example
 * ```ts
 * const guide = easyGuide(model, (self, x: tf.Tensor) => {
 *   self.mapEstimate('sigma');
 * });
 * ```
 * @throws ArgumentError naming `fn` unless it is a function.
 */
export function easyGuide<A extends unknown[], R>(
  model: Fn<A, unknown>,
  fn: (self: EasyGuide<A, R>, ...args: A) => R,
  options: EasyGuideOptions = {},
): EasyGuide<A, R> {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `expected a guide function (self, ...args), got ${String(fn)}`);
  }
  return new FnEasyGuide(model, fn, options);
}
