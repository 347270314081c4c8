/**
 * `AutoStructured` (Pyro's): a structured guide where each latent site `s` has its own
 * conditional — a point mass (`'delta'`), a diagonal Normal (`'normal'`) or a full-rank Normal
 * (`'mvn'`) over its flattened unconstrained value — and linear dependencies on the noise of
 * upstream sites:
 *
 * $$\varepsilon_s \sim \mathcal N(0, I),\quad a_s = B_s\varepsilon_s,\quad
 *   u_s = \mathrm{loc}_s + a_s + \textstyle\sum_{r \in \mathrm{up}(s)} W_{s r}\, a_r,\quad
 *   z_s = T_s(u_s)$$
 *
 * with `B_s = diag(scale_s)` (normal), `diag(scale_s) L_s` (mvn, `L_s` unit lower Cholesky at
 * start, the scale learned apart as Pyro does) or `0` (delta), `W_{sr}` learned (zero at start)
 * and `T_s = bijectTo(support)`. The map `ε -> u` is block lower-triangular, so
 *
 * $$\log q(z) = \textstyle\sum_s \Big[\log\mathcal N(\varepsilon_s; 0, I) - \log\lvert\det B_s\rvert
 *   - \log\lvert\det J_{T_s}(u_s)\rvert\Big]$$
 *
 * over the non-delta sites (each `ε_s` an auxiliary guide site `${s}_aux`, the rest carried by the
 * site's point mass as Pyro's `Delta(value, log_density)`). `dependencies: 'linear'` makes every
 * site depend on every site before it in the model's order (a superset of the posterior
 * dependencies that Pyro infers from the model's provenance); a record
 * `{downstream: {upstream: 'linear'}}` gives them by hand, sorted topologically as Pyro
 * (a cycle is refused). Summaries: `median()` is `T(loc)`, `quantiles(qs)` the marginal Gaussian
 * quantiles `T(loc + sd ⊙ Φ^{-1}(q))` with `sd` from `Cov(u_s) = B_s B_s^T + Σ_r W_{sr} B_r B_r^T W_{sr}^T`.
 */
import * as tf from '@tensorflow/tfjs';
import { Normal } from '../../distributions/normal.js';
import { ArgumentError } from '../../utils/errors.js';
import { sumRightmost } from '../../utils/tensor.js';
import { nextSeed } from '../../utils/seed.js';
import { lowerCholesky, positive, trilMask } from '../constraints.js';
import { Delta } from '../../distributions/delta.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param, sample } from '../runtime.js';
import { plateAlignedShape } from './continuous.js';
import { AutoGuide, checkNumSamples, normalQuantiles } from './guide.js';
import type { LatentSpec } from './prototype.js';
import {
  checkStructuredOptions,
  makeStructuredPlan,
  type AutoStructuredOptions,
  type StructuredConditional,
  type StructuredPlan as Plan,
} from './structured_plan.js';

/** `x [..., n] -> x W^T [..., m]` for `W [m, n]`. */
function applyLinear(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const n = x.shape[x.rank - 1] as number;
  const m = w.shape[0] as number;
  const lead = x.shape.slice(0, -1);
  return tf.reshape(tf.matMul(tf.reshape(x, [-1, n]), w, false, true), [...lead, m]);
}

/**
 * A structured guide (Pyro's `AutoStructured`).
 *
 * @example
 * ```ts
 * const guide = new AutoStructured(model, {
 *   conditionals: { tau: 'normal', theta: 'mvn', sigma: 'delta' },
 *   dependencies: { theta: { tau: 'linear' } },
 * });
 * ```
 */
export class AutoStructured<A extends unknown[]> extends AutoGuide<A> {
  readonly initScale: number;
  private readonly conditionals: StructuredConditional | Record<string, StructuredConditional>;
  private readonly dependencies: 'linear' | Record<string, Record<string, 'linear'>>;
  private plan: Plan | undefined;

  /**
   * @param model the model.
   * @param options `conditionals`, `dependencies`, `initScale`, `initLoc`, `prefix`.
   * @throws ArgumentError naming a bad or unknown option (site names are checked on the first
   *   call, against the model's latent sites).
   */
  constructor(model: Fn<A, unknown>, options: AutoStructuredOptions = {}) {
    super(model, options, 'AutoStructured', ['conditionals', 'dependencies']);
    this.initScale = options.initScale ?? 0.1;
    if (!(this.initScale > 0) || !Number.isFinite(this.initScale)) {
      throw new ArgumentError('initScale', `expected a finite number > 0, got ${this.initScale}`);
    }
    const { conditionals, dependencies } = checkStructuredOptions(options);
    this.conditionals = conditionals;
    this.dependencies = dependencies;
  }

  /** Name of site `name`'s location (flat unconstrained). */
  locName(name: string): string {
    return `${this.prefix}.locs.${name}`;
  }
  /** Name of site `name`'s scales. */
  scaleName(name: string): string {
    return `${this.prefix}.scales.${name}`;
  }
  /** Name of site `name`'s Cholesky factor (mvn). */
  scaleTrilName(name: string): string {
    return `${this.prefix}.scale_trils.${name}`;
  }
  /** Name of the linear map from `upstream`'s noise to `downstream`. */
  depName(downstream: string, upstream: string): string {
    return `${this.prefix}.deps.${downstream}.${upstream}`;
  }

  /** The sites, checked against the options, sorted topologically (Pyro's order rule). */
  private setupPlan(args: A): Plan {
    if (this.plan !== undefined) return this.plan;
    const specs = this.setup(args);
    try {
      this.plan = makeStructuredPlan(specs, this.conditionals, this.dependencies);
    } catch (e) {
      this.dispose(); // the prototype's tensors: the options do not fit the model
      throw e;
    }
    return this.plan;
  }

  /** The learned factor `B_s` of site `s`'s noise (`[size, size]`), from `get` (param or value). */
  private noiseFactor(
    s: LatentSpec,
    kind: StructuredConditional,
    get: (name: string, init: () => tf.Tensor, c?: 'positive' | 'tril') => tf.Tensor,
  ): { scale: tf.Tensor; tril: tf.Tensor | undefined } {
    const scale = get(this.scaleName(s.name), () => tf.fill([s.size], this.initScale), 'positive');
    if (kind !== 'mvn') return { scale, tril: undefined };
    const l = get(this.scaleTrilName(s.name), () => tf.eye(s.size), 'tril');
    return { scale, tril: tf.mul(l, trilMask(s.size)) };
  }

  /**
   * `u_s` flat `[..., size]` for every site from its noise `ε_s` (`draw(s)`), and the per-element
   * `-log|det B_s|` contributions `[size]` (non-delta sites).
   */
  private build(
    plan: Plan,
    draw: (s: LatentSpec) => tf.Tensor,
    get: (name: string, init: () => tf.Tensor, c?: 'positive' | 'tril') => tf.Tensor,
  ): { u: Map<string, tf.Tensor>; logDetB: Map<string, tf.Tensor> } {
    const aux = new Map<string, tf.Tensor>();
    const u = new Map<string, tf.Tensor>();
    const logDetB = new Map<string, tf.Tensor>();
    for (const s of plan.order) {
      const kind = plan.cond.get(s.name) as StructuredConditional;
      const loc = get(this.locName(s.name), () => tf.reshape(s.init, [-1]));
      let a: tf.Tensor;
      if (kind === 'delta') {
        a = tf.zeros([s.size]);
      } else {
        const eps = draw(s);
        const { scale, tril } = this.noiseFactor(s, kind, get);
        a = tf.mul(tril === undefined ? eps : applyLinear(eps, tril), scale);
        const logDiag =
          tril === undefined ? tf.log(scale) : tf.add(tf.log(scale), tf.log(diagOf(tril)));
        logDetB.set(s.name, tf.neg(logDiag));
      }
      aux.set(s.name, a);
      let v = tf.add(loc, a);
      for (const up of plan.deps.get(s.name) ?? []) {
        const w = get(this.depName(s.name, up.name), () => tf.zeros([s.size, up.size]));
        v = tf.add(v, applyLinear(aux.get(up.name) as tf.Tensor, w));
      }
      u.set(s.name, v);
    }
    return { u, logDetB };
  }

  /**
   * The guide: draws each site's noise `${site}_aux` (auxiliary), then the site as a point mass at
   * `T(u_s)` carrying its share of `log q`.
   */
  call(...args: A): Record<string, tf.Tensor> {
    return this.standalone(() => {
      const plan = this.setupPlan(args);
      const get = (name: string, init: () => tf.Tensor, c?: 'positive' | 'tril'): tf.Tensor =>
        param(
          name,
          init,
          c === undefined ? {} : { constraint: c === 'positive' ? positive : lowerCholesky },
        );
      const { u, logDetB } = this.build(
        plan,
        (s) =>
          sample(`${s.name}_aux`, new Normal(tf.zeros([s.size]), 1).toEvent(1), {
            infer: { isAuxiliary: true },
          }),
        get,
      );
      this.releaseInits();
      const out: Record<string, tf.Tensor> = {};
      for (const s of plan.order) {
        const flat = u.get(s.name) as tf.Tensor;
        const lead = flat.shape.slice(0, -1);
        const us = tf.reshape(flat, plateAlignedShape(s, lead));
        const { y, logDet } = s.bijector.forwardAndLogDet(us);
        const lb = logDetB.get(s.name);
        let logDensity: tf.Tensor | undefined;
        if (lb !== undefined) {
          // -log|det J_T| per event of the site (summed right of its batch dims)
          const k = logDet.rank - (y.rank - s.eventDim);
          const ldT = sumRightmost(logDet, k);
          // -log|det B| per element, summed over the site's unconstrained event dims
          const e = s.eventDim + s.unconstrainedShape.length - s.shape.length;
          const lbs = tf.reshape(lb, s.unconstrainedShape);
          const ldB = sumRightmost(lbs, e);
          logDensity = tf.sub(ldB, ldT);
        }
        out[s.name] = sample(
          s.name,
          new Delta(y, s.eventDim, logDensity === undefined ? {} : { logDensity }),
        );
      }
      return out;
    });
  }

  /** Reads the current parameter values (new tensors; call inside `tf.tidy`). */
  private readonly read = (name: string): tf.Tensor => getParamStore().value(name);

  /** Posterior medians `T_s(loc_s)`, new tensors by site. */
  median(...args: A | []): Record<string, tf.Tensor> {
    this.setUpWith(args);
    return this.collect((s) =>
      tf.tidy(() =>
        s.bijector.forward(tf.reshape(this.read(this.locName(s.name)), s.unconstrainedShape)),
      ),
    );
  }

  /** Marginal standard deviations of every `u_s` (flat `[size]`; call inside `tf.tidy`). */
  private marginalSd(plan: Plan): Map<string, tf.Tensor> {
    const factor = new Map<string, tf.Tensor>(); // B_s [size, size]
    const sd = new Map<string, tf.Tensor>();
    for (const s of plan.order) {
      const kind = plan.cond.get(s.name) as StructuredConditional;
      let b: tf.Tensor;
      if (kind === 'delta') {
        b = tf.zeros([s.size, s.size]);
      } else {
        const { scale, tril } = this.noiseFactor(s, kind, (n) => this.read(n));
        // a = (L ε) ⊙ scale: B = diag(scale) L
        b = tf.mul(tf.reshape(scale, [-1, 1]), tril ?? tf.eye(s.size));
      }
      factor.set(s.name, b);
      let cov = tf.matMul(b, b, false, true);
      for (const up of plan.deps.get(s.name) ?? []) {
        const w = this.read(this.depName(s.name, up.name));
        const wb = tf.matMul(w, factor.get(up.name) as tf.Tensor);
        cov = tf.add(cov, tf.matMul(wb, wb, false, true));
      }
      sd.set(s.name, tf.sqrt(diagOf(cov)));
    }
    return sd;
  }

  /** Marginal quantiles `T_s(loc_s + sd_s Φ^{-1}(q))`, shape `[qs.length, ...siteShape]`. */
  quantiles(qs: number[]): Record<string, tf.Tensor> {
    const z = normalQuantiles(qs);
    const plan = this.requirePlan();
    return tf.tidy(() => {
      const sd = this.marginalSd(plan);
      const out: Record<string, tf.Tensor> = {};
      for (const s of this.specs) {
        const loc = this.read(this.locName(s.name));
        const sdS = sd.get(s.name) as tf.Tensor;
        out[s.name] = tf.stack(
          z.map((zq) =>
            s.bijector.forward(tf.reshape(tf.add(loc, tf.mul(sdS, zq)), s.unconstrainedShape)),
          ),
        );
      }
      return out;
    });
  }

  /** `n` joint draws by site, shape `[n, ...siteShape]` (new tensors). */
  samplePosterior(n: number): Record<string, tf.Tensor> {
    checkNumSamples(n);
    const plan = this.requirePlan();
    return tf.tidy(() => {
      const { u } = this.build(
        plan,
        (s) => tf.randomNormal([n, s.size], 0, 1, 'float32', nextSeed()),
        (name) => this.read(name),
      );
      const out: Record<string, tf.Tensor> = {};
      for (const s of plan.order) {
        const flat = tf.broadcastTo(u.get(s.name) as tf.Tensor, [n, s.size]);
        out[s.name] = s.bijector.forward(tf.reshape(flat, [n, ...s.unconstrainedShape]));
      }
      return out;
    });
  }

  private requirePlan(): Plan {
    if (this.plan === undefined) {
      throw new ArgumentError('guide', 'call the guide (or take one SVI step) first');
    }
    return this.plan;
  }

  override dispose(): void {
    this.plan = undefined;
    super.dispose();
  }
}

/** The diagonal of a `[n, n]` matrix. */
function diagOf(m: tf.Tensor): tf.Tensor {
  const n = m.shape[0] as number;
  return tf.sum(tf.mul(m, tf.eye(n)), -1);
}
