/**
 * `AutoBNAFNormal` (NumPyro's; Pyro's block neural autoregressive flow guide, De Cao et al. 2019):
 * the concatenated unconstrained latent vector `u ∈ R^D` is a standard normal pushed through
 * `numFlows` block neural autoregressive flows (`bijectors.BlockAutoregressive`, tanh between
 * layers), the variable order reversed between flows and every flow but the last with a gated
 * residual connection (as NumPyro), then shifted by a learned `loc` (started at the initial point):
 *
 * $$\varepsilon \sim \mathcal N(0, I_D),\quad u = \mathrm{loc} + f_T \circ P \circ \dots \circ
 *   P \circ f_1(\varepsilon),\qquad
 *   \log q(u) = \log\mathcal N(\varepsilon; 0, I) - \textstyle\sum_t \log\lvert\det J_{f_t}\rvert$$
 *
 * (`P` the reversal, `log|det P| = 0`). A BNAF has no closed-form inverse: `q(u)` is evaluated at
 * the guide's own draws, by the log-determinants of the forward pass that made them (what the
 * ELBOs need), including draws broadcast over a plate of vectorized particles; `logProb` of any
 * other value throws a `NotDefinedError`. The summaries (`median`, `quantiles`) are Monte Carlo
 * estimates from 4000 joint draws; `getTransform()` gives the map from the standard normal base
 * (for NeuTra reparameterized MCMC).
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution, DistributionOptions } from '../../distributions/distribution.js';
import {
  BlockAutoregressive,
  blockAutoregressiveSizes,
  initBlockAutoregressive,
  type BlockAutoregressiveLayer,
} from '../../bijectors/block_autoregressive.js';
import { FlowLatentBase, standardNormalLogDensity } from './flow_latent.js';
import { ArgumentError, NotDefinedError } from '../../utils/errors.js';
import { makeRng, nextSeed } from '../../utils/seed.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param } from '../runtime.js';
import { AutoContinuous } from './continuous.js';
import type { AutoGuideOptions } from './guide.js';
import type { LatentTransform } from './latent_transform.js';

/** Options of {@link AutoBNAFNormal}. */
export interface AutoBNAFOptions extends Omit<AutoGuideOptions, 'initScale'> {
  /** Number of block neural autoregressive flows. Default 1 (NumPyro). */
  numFlows?: number;
  /** Hidden units per latent dimension of each hidden layer. Default `[8, 8]` (NumPyro, Pyro). */
  hiddenFactors?: number[];
}

/** The parameters of one flow: its layers and, for all but the last flow, the gate's logit. */
interface FlowParams {
  layers: BlockAutoregressiveLayer[];
  gate: tf.Tensor | undefined;
}

/** `[D]` flows as bijectors (their masks are new tensors: dispose the bijectors). */
function flowBijectors(dim: number, flows: FlowParams[]): BlockAutoregressive[] {
  return flows.map(
    (f) =>
      new BlockAutoregressive(dim, {
        layers: f.layers,
        residual: f.gate === undefined ? null : 'gated',
        ...(f.gate === undefined ? {} : { gate: f.gate }),
      }),
  );
}

/**
 * The flow distribution over `u = loc + flows(ε)` (event `[D]`, any batch shape: `expand` draws
 * whole batches so that their densities are known).
 */
class BNAFLatent extends FlowLatentBase {
  constructor(
    dim: number,
    readonly flows: BlockAutoregressive[],
    loc: tf.Tensor,
    batch: number[] = [],
    options: DistributionOptions = {},
  ) {
    super(dim, loc, batch, options);
  }
  protected pushForward(eps: tf.Tensor): { u: tf.Tensor; logQ: tf.Tensor } {
    let logQ = standardNormalLogDensity(eps);
    let x = eps;
    this.flows.forEach((f, t) => {
      if (t > 0) x = tf.reverse(x, -1);
      const { y, logDet } = f.forwardAndLogDet(x);
      logQ = tf.sub(logQ, logDet);
      x = y;
    });
    return { u: tf.add(this.loc, x), logQ };
  }
  protected withBatch(batchShape: number[]): FlowLatentBase {
    return new BNAFLatent(this.dim, this.flows, this.loc, batchShape);
  }
  protected logProbElsewhere(): tf.Tensor {
    throw new NotDefinedError(
      'AutoBNAFNormal: a block neural autoregressive flow has no closed-form inverse; its ' +
        'density is known at the guide’s own draws only',
    );
  }
}

/** A {@link BNAFLatent} owning copies of its parameters and its bijectors. */
class OwningBNAFLatent extends BNAFLatent {
  constructor(
    dim: number,
    flows: BlockAutoregressive[],
    loc: tf.Tensor,
    private readonly copies: tf.Tensor[],
  ) {
    super(dim, flows, loc);
  }
  override dispose(): void {
    super.dispose();
    for (const f of this.flows) f.dispose();
    tf.dispose(this.copies);
  }
}

/** The map of {@link AutoBNAFNormal} from its standard normal base (owns its copies). */
class BNAFTransform implements LatentTransform {
  constructor(
    readonly dim: number,
    private readonly flows: BlockAutoregressive[],
    private readonly loc: tf.Tensor,
    private readonly copies: tf.Tensor[],
  ) {}
  forwardAndLogDet(z: tf.Tensor): { u: tf.Tensor; logDet: tf.Tensor } {
    return tf.tidy(() => {
      let x = z;
      let logDet: tf.Tensor = tf.zeros(z.shape.slice(0, -1));
      this.flows.forEach((f, t) => {
        if (t > 0) x = tf.reverse(x, -1);
        const r = f.forwardAndLogDet(x);
        logDet = tf.add(logDet, r.logDet);
        x = r.y;
      });
      return { u: tf.add(this.loc, x), logDet };
    });
  }
  dispose(): void {
    for (const f of this.flows) f.dispose();
    tf.dispose(this.copies);
  }
}

/**
 * A block neural autoregressive flow guide (NumPyro's `AutoBNAFNormal`).
 *
 * @example
 * ```ts
 * const guide = new AutoBNAFNormal(model, { numFlows: 1, hiddenFactors: [8, 8] });
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * ```
 */
export class AutoBNAFNormal<A extends unknown[]> extends AutoContinuous<A> {
  readonly numFlows: number;
  readonly hiddenFactors: number[];

  /**
   * @param model the model.
   * @param options `numFlows`, `hiddenFactors`, `prefix`, `initLoc`.
   * @throws ArgumentError naming a bad or unknown option.
   */
  constructor(model: Fn<A, unknown>, options: AutoBNAFOptions = {}) {
    super(model, options, 'AutoBNAFNormal', ['numFlows', 'hiddenFactors']);
    if ((options as AutoGuideOptions).initScale !== undefined) {
      throw new ArgumentError('initScale', 'not an option of AutoBNAFNormal (a flow has no scale)');
    }
    const n = options.numFlows ?? 1;
    if (!Number.isInteger(n) || n < 1) {
      throw new ArgumentError('numFlows', `expected an integer >= 1, got ${String(n)}`);
    }
    const h = options.hiddenFactors ?? [8, 8];
    blockAutoregressiveSizes(1, h); // checks the factors, naming hiddenFactors
    this.numFlows = n;
    this.hiddenFactors = [...h];
  }

  private flowName(t: number): string {
    return `${this.prefix}.flows.${t}`;
  }

  /** The names of flow `t`'s parameters: per layer `weight`, `diag_weight`, `bias`; `gate`. */
  private names(t: number): { layers: [string, string, string][]; gate: string | undefined } {
    const p = this.flowName(t);
    const layers = this.hiddenFactors
      .concat([1])
      .map(
        (_, l) =>
          [`${p}.layers.${l}.weight`, `${p}.layers.${l}.diag_weight`, `${p}.layers.${l}.bias`] as [
            string,
            string,
            string,
          ],
      );
    return { layers, gate: t < this.numFlows - 1 ? `${p}.gate` : undefined };
  }

  /** The flows' parameters (created with Pyro's initialization on first use). */
  private flowParams(read: (name: string, init: () => tf.Tensor) => tf.Tensor): FlowParams[] {
    const d = this.latentDim;
    const out: FlowParams[] = [];
    for (let t = 0; t < this.numFlows; t++) {
      const names = this.names(t);
      let init: BlockAutoregressiveLayer<number[][] | number[]>[] | undefined;
      const initOf = (): BlockAutoregressiveLayer<number[][] | number[]>[] =>
        (init ??= initBlockAutoregressive(d, this.hiddenFactors, nextSeed()));
      const layers = names.layers.map(([w, g, b], l) => ({
        weight: read(w, () =>
          tf.tensor((initOf()[l] as BlockAutoregressiveLayer<number[][]>).weight),
        ),
        diagWeight: read(g, () =>
          tf.tensor((initOf()[l] as BlockAutoregressiveLayer<number[]>).diagWeight),
        ),
        bias: read(b, () => tf.tensor((initOf()[l] as BlockAutoregressiveLayer<number[]>).bias)),
      }));
      const gate =
        names.gate === undefined
          ? undefined
          : read(names.gate, () => {
              // a N(0, 1) logit, as NumPyro's and Pyro's gated residual
              const rng = makeRng(nextSeed());
              const u1 = Math.max(rng(), 1e-12);
              const u2 = rng();
              return tf.scalar(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
            });
      out.push({ layers, gate });
    }
    return out;
  }

  protected latentDistribution(): Distribution {
    // the flow is shifted to start around the initial point
    const loc = param(`${this.prefix}.loc`, () => this.initLatent());
    const flows = this.flowParams((n, init) => param(n, init));
    return new BNAFLatent(this.latentDim, flowBijectors(this.latentDim, flows), loc);
  }

  /** Copies of the current parameters (kept: the caller frees them). */
  private copyParams(): { flows: FlowParams[]; loc: tf.Tensor; copies: tf.Tensor[] } {
    const store = getParamStore();
    const copies: tf.Tensor[] = [];
    const copy = (n: string): tf.Tensor => {
      const v = store.value(n);
      copies.push(v);
      return v;
    };
    try {
      const loc = copy(`${this.prefix}.loc`);
      const flows = this.flowParams((n) => copy(n));
      return { flows, loc, copies };
    } catch (e) {
      tf.dispose(copies);
      throw e;
    }
  }

  /** `q(u)` at the current parameters (copies; `dispose()` it). Draws only: no inverse. */
  override getPosterior(): Distribution {
    const { flows, loc, copies } = this.copyParams();
    return new OwningBNAFLatent(this.latentDim, flowBijectors(this.latentDim, flows), loc, copies);
  }

  /** Monte Carlo mean and sd of `q(u)` from 4000 draws. */
  locAndScale(): { loc: tf.Tensor; scale: tf.Tensor } {
    const q = this.getPosterior();
    try {
      return tf.tidy(() => {
        const { mean, variance } = tf.moments(q.sample([4000]), 0);
        return { loc: mean, scale: tf.sqrt(variance) };
      });
    } finally {
      q.dispose();
    }
  }

  /**
   * `u = loc + f_T ∘ P ∘ ... ∘ f_1(z)` with `log|det J| = Σ_t log|det J_{f_t}|` (see
   * `AutoContinuous.getTransform`; copies of the parameters, `dispose()` it).
   */
  override getTransform(): LatentTransform {
    const { flows, loc, copies } = this.copyParams();
    return new BNAFTransform(this.latentDim, flowBijectors(this.latentDim, flows), loc, copies);
  }
}
