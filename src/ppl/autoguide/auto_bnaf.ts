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
import { BlockAutoregressive } from '../../bijectors/block_autoregressive.js';
import {
  blockAutoregressiveSizes,
  initBlockAutoregressive,
  type BlockAutoregressiveLayer,
} from '../../bijectors/block_autoregressive_layers.js';
import { FlowGuide, type FlowCopies } from './flow_guide.js';
import { FlowLatentBase, copyFlowParams, standardNormalLogDensity } from './flow_latent.js';
import { ArgumentError, NotDefinedError } from '../../utils/errors.js';
import { makeRng, nextSeed } from '../../utils/seed.js';
import type { Fn } from '../messenger.js';
import { param } from '../runtime.js';
import type { AutoGuideOptions } from './guide.js';

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
 * `x_T` of `x_0 = x`, `x_t = f_t(P x_{t-1})` (no reversal before the first flow), with
 * `acc_T` of `acc_0 = init`, `acc_t = combine(acc_{t-1}, log|det J_{f_t}|)`: the one pass of the
 * flows behind both the guide's draws (`init = log N(ε; 0, I)`, `combine = -`: `log q`) and its
 * transform (`init = 0`, `combine = +`: `log|det J|`).
 */
function throughFlows(
  flows: BlockAutoregressive[],
  x0: tf.Tensor,
  init: tf.Tensor,
  combine: (acc: tf.Tensor, logDet: tf.Tensor) => tf.Tensor,
): { y: tf.Tensor; acc: tf.Tensor } {
  let x = x0;
  let acc = init;
  flows.forEach((f, t) => {
    if (t > 0) x = tf.reverse(x, -1);
    const r = f.forwardAndLogDet(x);
    acc = combine(acc, r.logDet);
    x = r.y;
  });
  return { y: x, acc };
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
    const { y, acc } = throughFlows(this.flows, eps, standardNormalLogDensity(eps), tf.sub);
    return { u: tf.add(this.loc, y), logQ: acc };
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

/**
 * A block neural autoregressive flow guide (NumPyro's `AutoBNAFNormal`).
 *
 * @example
 * ```ts
 * const guide = new AutoBNAFNormal(model, { numFlows: 1, hiddenFactors: [8, 8] });
 * const svi = new SVI(model, guide, tf.train.adam(0.01), new TraceELBO());
 * ```
 */
export class AutoBNAFNormal<A extends unknown[]> extends FlowGuide<A> {
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

  /** The flows over copies of the current parameters (`u = loc + f_T ∘ P ∘ ... ∘ f_1(z)`). */
  protected flowCopies(): FlowCopies {
    const { flow, loc, copies } = copyFlowParams(`${this.prefix}.loc`, (read) =>
      this.flowParams(read),
    );
    const flows = flowBijectors(this.latentDim, flow);
    const dim = this.latentDim;
    return {
      loc,
      // log|det J| = Σ_t log|det J_{f_t}|
      push: (z) => {
        const { y, acc } = throughFlows(flows, z, tf.zeros(z.shape.slice(0, -1)), tf.add);
        return { y, logDet: acc };
      },
      latent: () => new BNAFLatent(dim, flows, loc),
      release: () => {
        for (const f of flows) f.dispose();
        tf.dispose(copies);
      },
    };
  }
}
