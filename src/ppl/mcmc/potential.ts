/**
 * Potential energy of a model's posterior over one flat vector of unconstrained latents.
 *
 * Every latent (non-observed) sample site `x_i` with support `S_i` is written `x_i = T_i(z_i)`,
 * `T_i = bijectTo(S_i)` (chosen at run time from the site's distribution, as NumPyro does, so
 * supports may depend on other latents), and
 *
 * `U(z) = -( log p(data, T(z)) + sum_i log|det J_{T_i}(z_i)| )`,
 *
 * where `log p` is the scaled, masked log-density of the trace (observed sites, `factor` sites and
 * latent sites; `deterministic` sites contribute nothing). One evaluation runs the model once
 * under `trace` and a substituting handler inside `tf.valueAndGrad`, all in one `tf.tidy`: only
 * two float64 arrays leave it.
 *
 * Discrete latent sites with a finite support (`Bernoulli`, `Categorical`, `OneHotCategorical`,
 * any boolean or finite integer-interval support), marked `{infer: {enumerate: 'parallel'}}` or
 * not (NumPyro's rule), are summed out (Pyro's and NumPyro's HMC with enumeration):
 *
 * `U(z) = -( log Σ_{z_d} p(data, T(z), z_d) + sum_i log|det J_{T_i}(z_i)| )`,
 *
 * the model running once under `enumerate` (each discrete site takes all its values along a dim
 * left of the `maxPlateNesting` plate dims, reused along a chain declared with `markov`) and the
 * sum computed by the variable elimination of
 * `TraceEnumELBO` (`infer/contract.ts`; plates are products, so a per-datum assignment costs
 * `O(N K)`). Continuous latents may depend on discrete ones (their log-densities are factors of
 * the sum), not their supports.
 */
import * as tf from '@tensorflow/tfjs';
import { IndependentConstraint, type Constraint } from '../../constraints/constraints.js';
import { bijectTo } from '../../distributions/transform_to.js';
import { ArgumentError } from '../../utils/errors.js';
import { disposeAbortedTape, withTapeCleanup } from '../../utils/tape.js';
import { Delta } from '../delta.js';
import { Messenger } from '../messenger.js';
import type { Message } from '../runtime.js';
import { enableValidation, isValidationEnabled } from '../site_validation.js';
import { enumerateDiscrete } from '../handlers/enum.js';
import { plate } from '../handlers/plate.js';
import { trace } from '../handlers/trace.js';
import { contractFactors } from '../infer/contract.js';
import { enumFactorGraph } from '../infer/enum_factors.js';
import { applySiteScaleTensor, siteLogProbSum, siteMask, type Trace } from '../trace.js';
import type { PotentialPoint } from './integrator.js';

/**
 * A differentiable potential energy over `R^dim` (minus a log density, up to a constant).
 * Implement it to sample any target with {@link HMC}/{@link NUTS} directly.
 */
export interface Potential {
  /** Number of coordinates. */
  readonly dim: number;
  /** `U(z)` and `dU/dz` at `z` (a new gradient array). */
  valueAndGrad(z: Float64Array): PotentialPoint;
  /**
   * Optional: the same at several independent points at once (one batched evaluation), used by
   * `chainMethod: 'vectorized'`.
   */
  valueAndGradBatch?(zs: Float64Array[]): PotentialPoint[];
}

/** One latent site's place in the flat vector. */
export interface LatentSite {
  name: string;
  /** Shape of the constrained value. */
  shape: number[];
  /** Shape of its unconstrained image (differs for simplex, corrCholesky, ...). */
  unconstrainedShape: number[];
  /** First coordinate in the flat vector. */
  offset: number;
  /** Number of unconstrained coordinates. */
  size: number;
}

/** How a model's discrete latent sites are summed out of its potential (see the module docs). */
export interface DiscreteEnumeration {
  /** The model's plate dims: enumerated sites take the dims left of them. */
  maxPlateNesting: number;
  /** The discrete latent sites, in the order of the initial run. */
  sites: string[];
  /**
   * The shapes of the `deterministic` sites in a run without enumeration: one whose shape differs
   * under enumeration depends on a discrete site and is not stored with the draws.
   */
  deterministicShapes: Map<string, number[]>;
}

/** Whether a trace site is a `deterministic` one (recorded, not scored). */
export function isDeterministicSite(msg: Message): boolean {
  return msg.type === 'sample' && msg.isObserved && msg.fn instanceof Delta;
}

/**
 * Whether a trace site adds nothing to the log joint: a `deterministic` site, i.e. an observed
 * point mass without a `logDensity`. A point mass carrying one (Pyro's `Delta(v, log_density)`,
 * left by the reparameterizers that keep a site's density at its value, e.g. `CircularReparam`,
 * `SplitReparam`, `NeuTraReparam`) is scored like any observed site.
 */
export function isUnscoredSite(msg: Message): boolean {
  return isDeterministicSite(msg) && (msg.fn as Delta).logDensity === null;
}

/** Throw unless the latent site `msg` is continuous. */
export function checkContinuous(msg: Message): void {
  const fn = msg.fn;
  if (fn === null) return;
  if (fn.support.isDiscrete) {
    throw new ArgumentError(
      'model',
      `MCMC: latent site '${msg.name}' has the discrete support '${fn.support.name}'; ` +
        'HMC/NUTS need continuous latents (observe it, or marginalize it out)',
    );
  }
}

/** Whether `c` is the real line (possibly with event dims): its bijector is the identity. */
function isReal(c: Constraint): boolean {
  if (c.kind === 'real') return true;
  return c instanceof IndependentConstraint && isReal(c.base);
}

/** A batched evaluation whose shapes show that the model does not batch that way. @internal */
class BatchLayoutError extends Error {}

/** Name of the plate of vectorized chains (Pyro's `vectorize_particles` plate, for chains). */
const CHAIN_PLATE = '_num_chains_vectorized';

/**
 * How a batch of chains is evaluated: the chain dimension as a plate left of the model's plates
 * (`plate`, with each latent's extra leading `1`s), as a plain leading dimension the model
 * broadcasts over by itself (`leading`), or one chain at a time (`loop`).
 */
type BatchLayout =
  { kind: 'plate'; nesting: number; pads: number[] } | { kind: 'leading' } | { kind: 'loop' };

/** Whether two potential evaluations agree to float32 accuracy (NaN matching NaN). */
function samePoint(a: PotentialPoint, b: PotentialPoint): boolean {
  const close = (x: number, y: number): boolean =>
    (Number.isNaN(x) && Number.isNaN(y)) || x === y || Math.abs(x - y) <= 1e-3 * (1 + Math.abs(x));
  return close(a.value, b.value) && a.grad.every((g, i) => close(g, b.grad[i] as number));
}

/**
 * Substitutes latent sites by `T(z_i)`; when scoring, also collects each scored site's
 * `scale * sum(mask * log p)` and the log-determinants while the model runs (no trace kept).
 */
class UnconstrainedSubstitute extends Messenger {
  /** Log-density terms and log-determinants, summed by the caller. */
  readonly terms: tf.Tensor[] = [];
  /**
   * @param sites each latent site's unconstrained value.
   * @param withLogDet score the run (else only substitute).
   * @param batch with a leading chain dimension of this size: terms are reduced per chain, to
   *   shape `[batch]` (terms without that leading dimension do not depend on the latents and are
   *   summed to a scalar).
   * @param chainRank with the chain dimension as a plate at dim `-chainRank`: every scored
   *   site's log-density must have rank `chainRank` (checked).
   */
  constructor(
    private readonly sites: Map<string, { site: LatentSite; z: tf.Tensor }>,
    private readonly withLogDet: boolean,
    private readonly batch?: number,
    private readonly chainRank?: number,
    private readonly enumerated = false,
  ) {
    super();
  }
  /**
   * Sum `t` over everything but the chain dimension (or over everything without batching). With
   * the chain plate (`chainRank`: its rank, the plate nesting + 1) a term of another rank, or
   * without the chain dimension in front, means the model broadcast its sites beyond their plates:
   * an error, so that the caller evaluates the chains one by one instead.
   */
  private reduce(t: tf.Tensor, what: string): tf.Tensor {
    if (t.rank === 0) return t;
    const b = this.batch;
    if (b !== undefined && this.chainRank !== undefined && t.shape[0] !== b) {
      throw new BatchLayoutError(
        `${what} has shape [${t.shape}], no chain dim of size ${b} in front`,
      );
    }
    if (b === undefined || t.shape[0] !== b) return tf.sum(t);
    if (t.rank === 1) return t;
    return tf.sum(
      t,
      Array.from({ length: t.rank - 1 }, (_, i) => i + 1),
    );
  }
  override postprocessMessage(msg: Message): void {
    if (!this.withLogDet || msg.type !== 'sample' || isUnscoredSite(msg)) return;
    if (this.enumerated) return; // the sites are scored by the contraction
    if (this.batch === undefined) {
      this.terms.push(siteLogProbSum(msg));
      return;
    }
    const fn = msg.fn;
    if (fn === null || msg.value === null) return;
    let lp = fn.logProb(msg.value);
    const mask = msg.mask;
    if (mask === false) return;
    if (mask !== null && mask !== true) {
      lp = tf.where(siteMask(msg, lp.shape), lp, tf.zerosLike(lp));
    }
    lp = applySiteScaleTensor(msg, lp);
    if (this.chainRank !== undefined && lp.rank !== this.chainRank) {
      throw new BatchLayoutError(
        `site '${msg.name}': log-density of shape [${lp.shape}], expected rank ${this.chainRank}`,
      );
    }
    const r = this.reduce(lp, `site '${msg.name}'`);
    this.terms.push(msg.scale === 1 ? r : tf.mul(r, msg.scale));
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.isObserved || msg.value !== null) return;
    const entry = this.sites.get(msg.name);
    if (entry === undefined) {
      throw new ArgumentError(
        'model',
        `MCMC: latent site '${msg.name}' was not in the model's first run (the set of latent ` +
          'sites must not change between runs)',
      );
    }
    checkContinuous(msg);
    const support = (msg.fn as NonNullable<Message['fn']>).support;
    const u = entry.z;
    if (isReal(support)) {
      msg.value = u; // identity: no transform, log-determinant 0
      return;
    }
    const bij = bijectTo(support);
    if (this.withLogDet) {
      const { y, logDet } = bij.forwardAndLogDet(u);
      msg.value = y;
      this.terms.push(this.reduce(logDet, `the log-determinant of site '${msg.name}'`));
    } else {
      msg.value = bij.forward(u);
    }
    const got = msg.value.shape;
    const want = entry.site.shape;
    if (this.enumerated && (got.length !== want.length || got.some((d, i) => d !== want[i]))) {
      throw new ArgumentError(
        'model',
        `MCMC: latent site '${msg.name}' has the support ${support.name}, which depends on an ` +
          `enumerated discrete site (its value takes the shape [${got.join(',')}], not ` +
          `[${want.join(',')}]): a continuous latent's support must not depend on discrete latents`,
      );
    }
  }
}

/**
 * Run `fn` with site-value validation off: latent values are in their supports by construction
 * and the observed ones were checked by the initialization run.
 */
function unvalidated<T>(fn: () => T): T {
  const was = isValidationEnabled();
  enableValidation(false);
  try {
    return fn();
  } finally {
    enableValidation(was);
  }
}

/** Per-site tensors of shape `unconstrainedShape` holding the sites' slices of `z` (float32). */
function siteTensors(z: Float64Array, sites: readonly LatentSite[]): tf.Tensor[] {
  return sites.map((s) =>
    tf.tensor(
      Float32Array.from(z.subarray(s.offset, s.offset + s.size)),
      s.unconstrainedShape,
      'float32',
    ),
  );
}

/**
 * Per-site tensors `[batch, ...unconstrainedShape]` stacking the sites' slices of each `z`, with
 * `pads[i]` dims of size 1 after the batch dim of site `i` when given.
 */
function batchedSiteTensors(
  zs: Float64Array[],
  sites: readonly LatentSite[],
  pads?: readonly number[],
): tf.Tensor[] {
  return sites.map((s, i) => {
    const v = new Float32Array(zs.length * s.size);
    zs.forEach((z, c) => v.set(z.subarray(s.offset, s.offset + s.size), c * s.size));
    const ones = new Array<number>(pads?.[i] ?? 0).fill(1);
    return tf.tensor(v, [zs.length, ...ones, ...s.unconstrainedShape], 'float32');
  });
}

/** A model's potential energy over its flat unconstrained latents (see the module docs). */
export class ModelPotential<A extends unknown[]> implements Potential {
  readonly dim: number;

  /**
   * @param model the model.
   * @param args its arguments (fixed for the run).
   * @param sites the latent layout, from the initialization run.
   * @param enumeration how discrete latent sites are summed out (from the initialization run);
   *   absent when the model has none.
   */
  constructor(
    readonly model: (...args: A) => unknown,
    readonly args: A,
    readonly sites: readonly LatentSite[],
    readonly enumeration?: DiscreteEnumeration,
  ) {
    this.dim = sites.reduce((n, s) => n + s.size, 0);
  }

  /** The model with its discrete latent sites enumerated (the model itself without any). */
  private runModel(): (...args: A) => unknown {
    const e = this.enumeration;
    return e === undefined
      ? this.model
      : enumerateDiscrete(this.model, -(e.maxPlateNesting + 1), 'MCMC');
  }

  /** `log Σ_{z_d} p(...)` of an enumerated run's trace (structural errors name the model). */
  private contracted(tr: Trace, nest: number): tf.Tensor {
    try {
      const g = enumFactorGraph(tr, nest, 'MCMC', (s) => !isUnscoredSite(s));
      return tf.add(g.rest, contractFactors(g.factors, g.vars, g.plates));
    } catch (e) {
      if (e instanceof ArgumentError && e.argument !== 'model') {
        throw new ArgumentError('model', `MCMC (discrete sites summed out): ${e.message}`);
      }
      throw e;
    }
  }

  /**
   * The log joint density in the unconstrained space, `-U`, as a scalar tensor of the sites'
   * unconstrained values (one tensor per site, in layout order; differentiable, untidied).
   */
  logDensity(parts: tf.Tensor[]): tf.Scalar {
    const map = new Map(this.sites.map((s, i) => [s.name, { site: s, z: parts[i] as tf.Tensor }]));
    const e = this.enumeration;
    const sub = new UnconstrainedSubstitute(map, true, undefined, undefined, e !== undefined);
    if (e !== undefined) {
      const model = this.runModel();
      const tr = unvalidated(
        () => trace((...a: A) => sub.run(() => model(...a))).getTraceUntidied(...this.args).trace,
      );
      return tf.addN([...sub.terms, this.contracted(tr, e.maxPlateNesting)]) as tf.Scalar;
    }
    unvalidated(() => sub.run(() => this.model(...this.args)));
    const t = sub.terms;
    if (t.length === 0) return tf.scalar(0);
    return (t.length === 1 ? t[0] : tf.addN(t)) as tf.Scalar;
  }

  /**
   * `U(z)` and `dU/dz`. Where the model rejects the values it is given (a distribution parameter
   * out of range, e.g. a scale that overflowed to infinity far out on a trajectory), the point has
   * infinite energy: `U = +Infinity`, gradient NaN, so the sampler treats it as a divergence.
   * {@link ModelPotential.evaluate} throws instead.
   */
  valueAndGrad(z: Float64Array): PotentialPoint {
    try {
      return this.evaluate(z);
    } catch (e) {
      if (!(e instanceof ArgumentError) || e.argument === 'model') throw e;
      return { value: Infinity, grad: new Float64Array(this.dim).fill(NaN), reason: e.message };
    }
  }

  /**
   * `U(z)` alone (no gradient): one model run. Where the model rejects the values it is given the
   * energy is `+Infinity`, as in {@link ModelPotential.valueAndGrad}.
   */
  energy(z: Float64Array): number {
    try {
      return tf.tidy(() => -(this.logDensity(siteTensors(z, this.sites)).dataSync()[0] as number));
    } catch (e) {
      if (!(e instanceof ArgumentError) || e.argument === 'model') throw e;
      return Infinity;
    }
  }

  /** How {@link valueAndGradBatch} evaluates a batch (chosen on its first call). */
  private layout: BatchLayout | undefined;

  /**
   * How {@link valueAndGradBatch} evaluates a batch of chains, once its first call has chosen:
   * `'plate'` (the chains as a plate left of the model's plates), `'leading'` (a plain leading
   * chain dimension), `'loop'` (one chain at a time); `undefined` before.
   */
  get batchMode(): BatchLayout['kind'] | undefined {
    return this.layout?.kind;
  }

  /**
   * `U` and `dU/dz` at several points, used by `chainMethod: 'vectorized'`, in one run of the
   * model when it batches: as Pyro's `vectorize_particles`, the chains form a plate at dim
   * `-(maxPlateNesting + 1)`, left of the model's plates, each latent value getting shape
   * `[chains, 1, ..., 1, ...shape]`, so a model whose sites broadcast along their plates (Pyro's
   * rule) batches unchanged, nested plates included. A model written for a plain leading chain
   * dimension (the latents `[chains, ...shape]`, no plate) batches too. The first call evaluates
   * every point on its own as well and keeps the first layout that reproduces those values and
   * gradients; a model that batches neither way (it reshapes or reduces its latents, say) is
   * evaluated one chain at a time, with the same numbers (NumPyro's `vmap` semantics). Where the
   * model rejects the values of a batched run, every point gets `U = +Infinity`.
   */
  valueAndGradBatch(zs: Float64Array[]): PotentialPoint[] {
    // the chain dim and the enumeration dims would collide: one point at a time (same numbers)
    if (this.enumeration !== undefined) return zs.map((z) => this.valueAndGrad(z));
    if (this.layout === undefined) {
      const exact = zs.map((z) => this.valueAndGrad(z));
      // decide at points the model accepts (a rejected point would reject every layout)
      if (!exact.every((p) => Number.isFinite(p.value))) return exact;
      this.layout = { kind: 'loop' };
      for (const candidate of this.batchLayouts(zs[0] as Float64Array)) {
        let pts: PotentialPoint[];
        try {
          pts = this.batchedValueAndGrad(zs, candidate);
        } catch {
          disposeAbortedTape();
          continue;
        }
        if (pts.every((p, c) => samePoint(exact[c] as PotentialPoint, p))) {
          this.layout = candidate;
          break;
        }
      }
      return exact;
    }
    const layout = this.layout;
    if (layout.kind === 'loop') return zs.map((z) => this.valueAndGrad(z));
    try {
      return this.batchedValueAndGrad(zs, layout);
    } catch (e) {
      disposeAbortedTape(); // the model threw mid-run: free the gradient tape's saved tensors
      if (!(e instanceof ArgumentError) || e.argument === 'model') throw e;
      const reason = e.message;
      return zs.map(() => ({
        value: Infinity,
        grad: new Float64Array(this.dim).fill(NaN),
        reason,
      }));
    }
  }

  /**
   * The batched layouts to try, in order: the chain plate (with the model's plate nesting and
   * each latent's padding, read from one unbatched run at `z`), then a plain leading dimension.
   */
  private batchLayouts(z: Float64Array): BatchLayout[] {
    let nesting = 0;
    const eventRank = new Map<string, number>();
    tf.tidy(() => {
      const parts = siteTensors(z, this.sites);
      const map = new Map(
        this.sites.map((s, i) => [s.name, { site: s, z: parts[i] as tf.Tensor }]),
      );
      const sub = new UnconstrainedSubstitute(map, false);
      const tr = unvalidated(
        () => trace(() => sub.run(() => this.model(...this.args))).getTraceUntidied().trace,
      );
      for (const s of tr.sites()) {
        for (const f of s.cond) nesting = Math.max(nesting, -f.dim);
        if (s.type === 'sample' && s.fn !== null) eventRank.set(s.name, s.fn.eventShape.length);
      }
    });
    const pads = this.sites.map((s) =>
      Math.max(0, nesting - (s.shape.length - (eventRank.get(s.name) ?? 0))),
    );
    return [{ kind: 'plate', nesting, pads }, { kind: 'leading' }];
  }

  /** One batched evaluation in `layout` (throws where the model does not batch so). */
  private batchedValueAndGrad(zs: Float64Array[], layout: BatchLayout): PotentialPoint[] {
    const n = zs.length;
    const out: PotentialPoint[] = [];
    let captured: tf.Tensor | undefined;
    try {
      tf.tidy(() => {
        const parts = batchedSiteTensors(
          zs,
          this.sites,
          layout.kind === 'plate' ? layout.pads : undefined,
        );
        const { grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => {
          const map = new Map(
            this.sites.map((s, i) => [s.name, { site: s, z: xs[i] as tf.Tensor }]),
          );
          const chainRank = layout.kind === 'plate' ? layout.nesting + 1 : undefined;
          const sub = new UnconstrainedSubstitute(map, true, n, chainRank);
          const run =
            layout.kind === 'plate'
              ? () =>
                  plate(CHAIN_PLATE, n, { dim: -(layout.nesting + 1) }, () =>
                    this.model(...this.args),
                  )
              : () => this.model(...this.args);
          unvalidated(() => sub.run(run));
          let total: tf.Tensor = tf.zeros([n]);
          for (const t of sub.terms) total = tf.add(total, t);
          if (total.rank !== 1 || total.shape[0] !== n) {
            throw new ArgumentError(
              'model',
              `MCMC (vectorized): the log density has shape [${total.shape}], expected [${n}] (one value per chain): the model must broadcast over a leading chain dimension`,
            );
          }
          captured = tf.keep(total);
          return tf.sum(total) as tf.Scalar;
        })(parts);
        const per = (captured as tf.Tensor).dataSync();
        const gs = grads.map((g) => g.dataSync());
        for (let c = 0; c < n; c++) {
          const grad = new Float64Array(this.dim);
          this.sites.forEach((s, i) => {
            const g = gs[i] as ArrayLike<number>;
            for (let k = 0; k < s.size; k++) grad[s.offset + k] = -(g[c * s.size + k] as number);
          });
          out.push({ value: -(per[c] as number), grad });
        }
      });
    } finally {
      captured?.dispose();
    }
    return out;
  }

  /** `U(z)` and `dU/dz`; errors of the model propagate. */
  evaluate(z: Float64Array): PotentialPoint {
    let out: PotentialPoint = { value: NaN, grad: new Float64Array(this.dim) };
    // a model that throws mid-run leaves the gradient tape's saved tensors: free them
    withTapeCleanup(() =>
      tf.tidy(() => {
        // one input per site: no split/reshape/concat kernels on the gradient path
        const parts = siteTensors(z, this.sites);
        const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => this.logDensity(xs))(
          parts,
        );
        const grad = new Float64Array(this.dim);
        this.sites.forEach((s, i) => {
          const g = (grads[i] as tf.Tensor).dataSync();
          for (let k = 0; k < s.size; k++) grad[s.offset + k] = -(g[k] as number);
        });
        out = { value: -(value.dataSync()[0] as number), grad };
      }),
    );
    return out;
  }

  /**
   * The constrained values of the latent sites and the values of the `deterministic` sites, in
   * trace order, as tensors of the sites' unconstrained values (one model run, untidied).
   */
  constrainTensors(parts: tf.Tensor[]): { names: string[]; values: tf.Tensor[] } {
    const map = new Map(this.sites.map((s, i) => [s.name, { site: s, z: parts[i] as tf.Tensor }]));
    const e = this.enumeration;
    const sub = new UnconstrainedSubstitute(map, false, undefined, undefined, e !== undefined);
    const model = this.runModel();
    const tr = trace((...a: A) => sub.run(() => model(...a))).getTraceUntidied(...this.args).trace;
    const names: string[] = [];
    const values: tf.Tensor[] = [];
    for (const s of tr.sampleSites()) {
      if (s.value === null || (s.isObserved && !isDeterministicSite(s))) continue;
      if (e !== undefined && s.infer._enumerated === true) continue;
      if (e !== undefined && isDeterministicSite(s)) {
        const want = e.deterministicShapes.get(s.name);
        const got = s.value.shape;
        if (want?.length !== got.length || got.some((d, i) => d !== want[i])) continue;
      }
      names.push(s.name);
      values.push(s.value);
    }
    return { names, values };
  }

  /**
   * The constrained values of the latent sites and the values of the `deterministic` sites at
   * `z`, as host arrays (one model run, no gradient).
   */
  constrain(z: Float64Array): Map<string, { shape: number[]; values: Float32Array }> {
    const out = new Map<string, { shape: number[]; values: Float32Array }>();
    tf.tidy(() => {
      const { names, values } = this.constrainTensors(siteTensors(z, this.sites));
      names.forEach((name, i) => {
        const v = values[i] as tf.Tensor;
        out.set(name, { shape: [...v.shape], values: Float32Array.from(v.dataSync()) });
      });
    });
    return out;
  }
}
