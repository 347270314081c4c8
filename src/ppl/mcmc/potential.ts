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
import { ArgumentError } from '../../utils/errors.js';
import { disposeAbortedTape, withTapeCleanup } from '../../utils/tape.js';
import { enumerateDiscrete } from '../handlers/enum.js';
import { trace } from '../handlers/trace.js';
import { contractFactors } from '../infer/contract.js';
import { enumFactorGraph } from '../infer/enum_factors.js';
import type { Trace } from '../trace.js';
import {
  batchedValueAndGrad,
  batchLayouts,
  samePoint,
  type BatchLayout,
} from './batched_potential.js';
import type { PotentialPoint } from './integrator.js';
import { isDeterministicSite, isUnscoredSite } from './site_kinds.js';
import { siteTensors, UnconstrainedSubstitute, unvalidated } from './unconstrained_substitute.js';

export { checkContinuous, isDeterministicSite, isUnscoredSite } from './site_kinds.js';

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
      return tf.add(g.rest, tf.mul(contractFactors(g.factors, g.vars, g.plates), g.scale));
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
      for (const candidate of batchLayouts(this, zs[0] as Float64Array)) {
        let pts: PotentialPoint[];
        try {
          pts = batchedValueAndGrad(this, zs, candidate);
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
      return batchedValueAndGrad(this, zs, layout);
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
   * The terms of `log p(x) + Σ log|J|` that are not finite at `z` (`site 'y'`, `the
   * log-determinant of site 's'`), for the message of a start that is not finite; empty when the
   * model throws there or its discrete sites are summed out.
   */
  nonFiniteTerms(z: Float64Array): string[] {
    if (this.enumeration !== undefined) return [];
    const out: string[] = [];
    try {
      tf.tidy(() => {
        const parts = siteTensors(z, this.sites);
        const map = new Map(this.sites.map((st, i) => [st.name, { site: st, z: parts[i]! }]));
        const sub = new UnconstrainedSubstitute(map, true);
        unvalidated(() => sub.run(() => this.model(...this.args)));
        sub.terms.forEach((t, i) => {
          const v = t.dataSync()[0] as number;
          if (!Number.isFinite(v)) out.push(`${sub.termNames[i]} (${v})`);
        });
      });
    } catch {
      return [];
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
