/**
 * `AutoNormalizingFlow` (Pyro's): the concatenated unconstrained latent vector `u ∈ R^D` is a
 * standard normal pushed through a user-given learnable bijector `T` of `R^D` (built by
 * `initTransformFn(D, param)` on every call: e.g. `iterated(2, iafFlow())`, `bnafFlow()`,
 * `affineCouplingFlow()`, `affineFlow()`, or any bijector over parameters read with `param`),
 * then shifted by a learned `loc` started at the initial point (as `AutoIAFNormal`,
 * `AutoBNAFNormal`; with `loc` fixed at 0 it is Pyro's guide):
 *
 * $$\varepsilon \sim \mathcal N(0, I_D),\quad u = \mathrm{loc} + T(\varepsilon),\qquad
 *   \log q(u) = \log\mathcal N(\varepsilon; 0, I_D) - \log\lvert\det J_T(\varepsilon)\rvert$$
 *
 * The guide scores its own draws by the log-determinants of the forward pass that made them (no
 * inverse needed: a BNAF has none), also under a plate of vectorized particles; `logProb` of
 * another value inverts `T` when it can. The summaries (`median`, `quantiles`) are Monte Carlo
 * estimates from 4000 joint draws; `getTransform()` gives `z ↦ loc + T(z)` (for NeuTra).
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector } from '../../bijectors/bijector.js';
import type { Distribution, DistributionOptions } from '../../distributions/distribution.js';
import type { Constraint } from '../../constraints/constraints.js';
import { ArgumentError } from '../../utils/errors.js';
import type { Fn } from '../messenger.js';
import { param } from '../runtime.js';
import type { AutoGuideOptions } from './guide.js';
import type { FlowFactory, FlowParam } from './flows.js';
import { FlowGuide, type FlowCopies } from './flow_guide.js';
import { FlowLatentBase, copyFlowParams, standardNormalLogDensity } from './flow_latent.js';

/** Options of {@link AutoNormalizingFlow}. */
export interface AutoNormalizingFlowOptions extends Omit<AutoGuideOptions, 'initScale'> {
  /**
   * The learnable transform (Pyro's `init_transform_fn`): `(D, param) => Bijector` of `R^D`,
   * called on every guide call; it reads its tensors with `param(name, init, {constraint})`
   * (stored as `${prefix}.transform.${name}`). Required.
   */
  initTransformFn: FlowFactory;
}

/** `T(ε)` of `ε` `[..., D]`, its log-det summed to `[...]` (an elementwise `T` gives `[..., D]`). */
function flowForward(t: Bijector, eps: tf.Tensor): { y: tf.Tensor; logDet: tf.Tensor } {
  const { y, logDet } = t.forwardAndLogDet(eps);
  if (logDet.rank === eps.rank) {
    const s = tf.sum(logDet, -1);
    logDet.dispose();
    return { y, logDet: s };
  }
  return { y, logDet };
}

/** The flow distribution over `u = loc + T(ε)` (event `[D]`, any batch shape through `expand`). */
class FlowLatent extends FlowLatentBase {
  constructor(
    dim: number,
    readonly transform: Bijector,
    loc: tf.Tensor,
    batch: number[] = [],
    options: DistributionOptions = {},
  ) {
    super(dim, loc, batch, options);
  }
  protected pushForward(eps: tf.Tensor): { u: tf.Tensor; logQ: tf.Tensor } {
    const { y, logDet } = flowForward(this.transform, eps);
    return { u: tf.add(this.loc, y), logQ: tf.sub(standardNormalLogDensity(eps), logDet) };
  }
  protected withBatch(batchShape: number[]): FlowLatentBase {
    return new FlowLatent(this.dim, this.transform, this.loc, batchShape);
  }
  /** By `T`'s inverse (when it has one). */
  protected logProbElsewhere(u: tf.Tensor): tf.Tensor {
    const { x, logDet } = this.transform.inverseAndLogDet(tf.sub(u, this.loc));
    const ld = logDet.rank === x.rank ? tf.sum(logDet, -1) : logDet;
    return tf.add(standardNormalLogDensity(x), ld);
  }
}

/**
 * A normalizing-flow guide over the unconstrained latent vector, with a user-given flow.
 *
 * @example
 * ```ts
 * const guide = new AutoNormalizingFlow(model, { initTransformFn: iterated(2, iafFlow()) });
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * ```
 */
export class AutoNormalizingFlow<A extends unknown[]> extends FlowGuide<A> {
  readonly initTransformFn: FlowFactory;

  /**
   * @param model the model.
   * @param options `initTransformFn` (required), `prefix`, `initLoc`.
   * @throws ArgumentError naming a bad, missing or unknown option.
   */
  constructor(model: Fn<A, unknown>, options: AutoNormalizingFlowOptions) {
    super(model, options ?? ({} as AutoNormalizingFlowOptions), 'AutoNormalizingFlow', [
      'initTransformFn',
    ]);
    if ((options as AutoGuideOptions).initScale !== undefined) {
      throw new ArgumentError('initScale', 'not an option of AutoNormalizingFlow (give the flow)');
    }
    if (typeof options.initTransformFn !== 'function') {
      throw new ArgumentError(
        'initTransformFn',
        'expected a function (latentDim, param) => Bijector of R^latentDim, e.g. ' +
          `iterated(2, iafFlow()); got ${String(options.initTransformFn)}`,
      );
    }
    this.initTransformFn = options.initTransformFn;
  }

  /** Name in the param store of the transform's parameter `name`. */
  transformParamName(name: string): string {
    return `${this.prefix}.transform.${name}`;
  }

  /** The transform over parameters read by `read`, checked to be a bijector of `R^D`. */
  private buildTransform(
    read: (name: string, init: () => tf.Tensor, options?: { constraint?: Constraint }) => tf.Tensor,
  ): Bijector {
    const d = this.latentDim;
    const p: FlowParam = (name, init, options) => {
      if (typeof name !== 'string' || name.length === 0) {
        throw new ArgumentError('initTransformFn', 'a parameter name must be a non-empty string');
      }
      return read(this.transformParamName(name), init, options);
    };
    const t = this.initTransformFn(d, p);
    if (!(t instanceof Bijector)) {
      throw new ArgumentError(
        'initTransformFn',
        `expected it to return a Bijector of R^${d}, got ${String(t)}`,
      );
    }
    const shape = t.forwardShape([d]);
    if (t.domainEventDim > 1 || shape.length !== 1 || shape[0] !== d) {
      throw new ArgumentError(
        'initTransformFn',
        `expected a Bijector of R^${d} (event dim 0 or 1, shape [${d}] -> [${d}]); got ` +
          `${t.name} with domain event dim ${t.domainEventDim}, [${d}] -> [${shape.join(',')}]`,
      );
    }
    return t;
  }

  protected latentDistribution(): Distribution {
    const loc = param(`${this.prefix}.loc`, () => this.initLatent());
    const t = this.buildTransform((n, init, o) => param(n, init, o ?? {}));
    return new FlowLatent(this.latentDim, t, loc);
  }

  /** The transform over copies of the current parameters (`u = loc + T(z)`). */
  protected flowCopies(): FlowCopies {
    const { flow, loc, copies } = copyFlowParams(`${this.prefix}.loc`, (read) =>
      this.buildTransform((n) => read(n)),
    );
    const dim = this.latentDim;
    return {
      loc,
      push: (z) => flowForward(flow, z),
      latent: () => new FlowLatent(dim, flow, loc),
      release: () => {
        flow.dispose();
        tf.dispose(copies);
      },
    };
  }
}
