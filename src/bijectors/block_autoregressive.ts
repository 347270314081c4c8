/**
 * The block neural autoregressive flow (BNAF, De Cao, Titov and Aziz 2019; Pyro's
 * `BlockAutoregressive`, NumPyro's `BlockNeuralAutoregressiveTransform`): a monotone neural
 * network from `R^D` to `R^D` whose weight matrices are block lower-triangular, with `D` blocks
 * of rows (outputs) and of columns (inputs), the diagonal blocks strictly positive:
 *
 * $$h^{(0)} = x,\quad a^{(l)} = W^{(l)} h^{(l-1)} + b^{(l)},\quad
 *   h^{(l)} = \sigma\big(a^{(l)}\big)\ (l < L),\quad f(x) = a^{(L)},$$
 *
 * with `W^{(l)}` of size `D f_l x D f_{l-1}` (`f_0 = f_L = 1`, `f_1..f_{L-1}` the hidden factors)
 * built from free parameters `V`, `g` by weight normalization:
 *
 * $$\tilde W = e^{V} \odot M_d + V \odot M_o,\qquad
 *   W_{j\cdot} = e^{g_j}\,\tilde W_{j\cdot} / \lVert \tilde W_{j\cdot}\rVert_2$$
 *
 * (`M_d` the diagonal-block mask, `M_o` the strictly lower block mask). Output `k` depends only on
 * `x_{1..k}` and increases in `x_k`, so the Jacobian is lower triangular with the positive
 * diagonal `∂f_k/∂x_k`. Its log is carried through the layers as the log of the diagonal
 * `1 x f_l` blocks of the chain rule, in log space (Pyro's `log_matrix_product`):
 *
 * $$\log J^{(l)}_k = \operatorname{logsumexp}_m\Big(\log W^{(l)}_{k,\cdot m} +
 *   \log J^{(l-1)}_{k,m\cdot}\Big) + \log\sigma'\big(a^{(l)}_k\big),\qquad
 *   \log\lvert\det J_f(x)\rvert = \textstyle\sum_k \log J^{(L)}_k$$
 *
 * with `log W_{ji} = g_j + V_{ji} - ½ log‖W̃_{j·}‖²` on the diagonal blocks. A residual connection
 * (`'normal'`: `y = x + f(x)`, `log ∂y_k/∂x_k = softplus(log J_k)`; `'gated'`:
 * `y = α x + (1 - α) f(x)`, `α = sigmoid(gate)`,
 * `log ∂y_k/∂x_k = log α + softplus(log(1 - α) - log α + log J_k)`) makes the map onto `R^D`.
 *
 * There is no closed-form inverse (as Pyro's, whose `_inverse` raises): `inverse` throws a
 * `NotDefinedError`. A flow guide (`AutoBNAFNormal`) only pushes base draws forward and scores
 * its own draws with the log-determinant of that forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type BijectorOptions, type ForwardResult } from './bijector.js';
import { ArgumentError, NotDefinedError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import type { TensorInput } from '../utils/tensor.js';
import {
  ACTIVATIONS,
  activate,
  logActivationGrad,
  logMatMul,
  type BlockAutoregressiveActivation,
  type BlockAutoregressiveResidual,
} from './block_autoregressive_activations.js';
import {
  blockAutoregressiveSizes,
  blockMasks,
  checkDim,
  checkFactors,
  initBlockAutoregressive,
  type BlockAutoregressiveLayer,
} from './block_autoregressive_layers.js';

/** Options of {@link BlockAutoregressive}. */
export interface BlockAutoregressiveOptions extends BijectorOptions {
  /**
   * Hidden units per input dimension of each hidden layer (Pyro's `hidden_factors`); used when
   * `layers` is not given, to draw Pyro's initial weights. Default `[8, 8]`.
   */
  hiddenFactors?: number[];
  /** The layers' parameters (the caller's tensors, e.g. trainable variables). */
  layers?: BlockAutoregressiveLayer<TensorInput>[];
  /** Activation between layers. Default `'tanh'`. */
  activation?: BlockAutoregressiveActivation;
  /** Residual connection. Default `null` (none). */
  residual?: BlockAutoregressiveResidual;
  /** The gate's logit (a scalar) for `residual: 'gated'`. Default 0 (`α = 1/2`). */
  gate?: TensorInput;
  /** Seed of the initial weights drawn from `hiddenFactors`. */
  seed?: number;
}

/**
 * The block neural autoregressive bijector on `R^D` (event dim 1).
 *
 * @example
 * ```ts
 * const f = new BlockAutoregressive(3, { hiddenFactors: [8, 8], seed: 0 });
 * const { y, logDet } = f.forwardAndLogDet(tf.randomNormal([10, 3]));  // [10, 3], [10]
 * f.dispose();
 * ```
 */
export class BlockAutoregressive extends Bijector {
  /** `D`. */
  readonly inputDim: number;
  readonly activation: BlockAutoregressiveActivation;
  readonly residual: BlockAutoregressiveResidual;
  /** The layers' parameters (`V`, `g`, `b`). */
  readonly layers: BlockAutoregressiveLayer[];
  /** The gate's logit (for `residual: 'gated'`). */
  readonly gate: tf.Tensor | undefined;
  private readonly masks: { diag: tf.Tensor2D; lower: tf.Tensor2D }[];

  /**
   * @param inputDim `D`, an integer >= 1.
   * @param options layers (or hidden factors and a seed), activation, residual, gate.
   * @throws ArgumentError naming the option, before any tensor is made.
   */
  constructor(inputDim: number, options: BlockAutoregressiveOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(
      options,
      ['hiddenFactors', 'layers', 'activation', 'residual', 'gate', 'seed', 'validateArgs', 'name'],
      'BlockAutoregressive',
    );
    const d = checkDim(inputDim);
    const activation = options.activation ?? 'tanh';
    if (!ACTIVATIONS.includes(activation)) {
      throw new ArgumentError(
        'activation',
        `expected one of ${ACTIVATIONS.join(', ')}, got ${String(activation)}`,
      );
    }
    const residual = options.residual ?? null;
    if (residual !== null && residual !== 'normal' && residual !== 'gated') {
      throw new ArgumentError('residual', `expected 'normal', 'gated' or null, got ${residual}`);
    }
    if (options.gate !== undefined && residual !== 'gated') {
      throw new ArgumentError('gate', "a gate is used only with residual: 'gated'");
    }
    if (options.layers !== undefined && options.hiddenFactors !== undefined) {
      throw new ArgumentError('layers', 'give layers or hiddenFactors, not both');
    }
    if (options.layers !== undefined && options.seed !== undefined) {
      throw new ArgumentError('seed', 'the seed draws initial layers: not used with layers');
    }
    const given = options.layers;
    let sizes: [number, number][];
    if (given !== undefined) {
      if (!Array.isArray(given) || given.length < 2) {
        throw new ArgumentError('layers', 'expected an array of at least 2 layers');
      }
      const shapeOf = (v: TensorInput): number[] => {
        if (v instanceof tf.Tensor) return v.shape;
        const out: number[] = [];
        let cur: unknown = v;
        while (Array.isArray(cur) || ArrayBuffer.isView(cur)) {
          const a = cur as ArrayLike<unknown>;
          out.push(a.length);
          cur = a[0];
        }
        return out;
      };
      sizes = given.map((l, i) => {
        if (l === null || typeof l !== 'object' || !('weight' in l)) {
          throw new ArgumentError('layers', `layer ${i}: expected {weight, diagWeight, bias}`);
        }
        const s = shapeOf(l.weight);
        return [s[1] ?? 0, s[0] ?? 0] as [number, number];
      });
      sizes.forEach(([nIn, nOut], i) => {
        const prevOut = i === 0 ? d : (sizes[i - 1] as [number, number])[1];
        const last = i === sizes.length - 1;
        const ok =
          nIn === prevOut && nOut % d === 0 && nOut > 0 && (!last || nOut === d) && nIn % d === 0;
        const l = given[i] as BlockAutoregressiveLayer<TensorInput>;
        const g = shapeOf(l.diagWeight);
        const b = shapeOf(l.bias);
        const gOk =
          (g.length === 1 && g[0] === nOut) || (g.length === 2 && g[0] === nOut && g[1] === 1);
        if (!ok || !gOk || b.length !== 1 || b[0] !== nOut) {
          throw new ArgumentError(
            'layers',
            `layer ${i}: expected weight [D f_l, ${prevOut}] (the last [${d}, .]), diagWeight and ` +
              `bias [D f_l], with D = ${d}; got weight [${nOut}, ${nIn}], diagWeight [${g}], bias [${b}]`,
          );
        }
      });
    } else {
      const h = checkFactors(options.hiddenFactors ?? [8, 8]);
      sizes = blockAutoregressiveSizes(d, h);
    }
    super(options);
    this.inputDim = d;
    this.activation = activation;
    this.residual = residual;
    const init = given ?? initBlockAutoregressive(d, options.hiddenFactors ?? [8, 8], options.seed);
    this.layers = init.map((l, i) => ({
      weight: this.param(l.weight, `layers[${i}].weight`),
      diagWeight: this.param(l.diagWeight, `layers[${i}].diagWeight`),
      bias: this.param(l.bias, `layers[${i}].bias`),
    }));
    this.gate = residual === 'gated' ? this.param(options.gate ?? 0, 'gate') : undefined;
    if (this.gate !== undefined && this.gate.size !== 1) {
      this.dispose();
      throw new ArgumentError('gate', `expected a scalar, got shape [${this.gate.shape}]`);
    }
    this.masks = sizes.map(([nIn, nOut]) => {
      const m = blockMasks(d, nIn, nOut);
      this.adopt(m.diag);
      this.adopt(m.lower);
      return m;
    });
  }

  override get eventRank(): number {
    return 1;
  }

  /** Whether the map is onto `R^D` (with a residual connection) — it is never inverted here. */
  get isOnto(): boolean {
    return this.residual !== null;
  }

  /**
   * One layer's weights `W` `[out, in]` and the log of its diagonal blocks `[D, out/D, in/D]`.
   */
  private weights(l: number): { w: tf.Tensor; logDiag: tf.Tensor } {
    const { weight: v, diagWeight } = this.layers[l] as BlockAutoregressiveLayer;
    const { diag, lower } = this.masks[l] as { diag: tf.Tensor2D; lower: tf.Tensor2D };
    const [nOut, nIn] = diag.shape;
    const d = this.inputDim;
    const g = tf.reshape(diagWeight, [nOut, 1]);
    const wt = tf.add(tf.mul(tf.exp(v), diag), tf.mul(v, lower));
    const sq = tf.sum(tf.square(wt), -1, true); // [out, 1]
    const w = tf.mul(tf.exp(g), tf.div(wt, tf.sqrt(sq)));
    const logW = tf.sub(tf.add(g, v), tf.mul(0.5, tf.log(sq)));
    // the diagonal blocks: [D, out/D, D, in/D] -> [D, out/D, in/D]
    const blocks = tf.reshape(tf.mul(logW, diag), [d, nOut / d, d, nIn / d]);
    const logDiag = tf.sum(blocks, 2);
    return { w, logDiag };
  }

  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const d = this.inputDim;
    if (x.shape[x.rank - 1] !== d) {
      throw new ArgumentError(
        'x',
        `expected a last dimension of ${d} for ${this.name}, got shape [${x.shape.join(', ')}]`,
      );
    }
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, d]);
    const n = x2.shape[0] as number;
    let h: tf.Tensor = x2;
    let logJ: tf.Tensor | undefined; // [n, D, f_l, 1]
    const last = this.layers.length - 1;
    for (let l = 0; l <= last; l++) {
      const { w, logDiag } = this.weights(l);
      const bias = (this.layers[l] as BlockAutoregressiveLayer).bias;
      const a = tf.add(tf.matMul(h, w, false, true), tf.reshape(bias, [-1]));
      const chained = logJ === undefined ? tf.expandDims(logDiag, 0) : logMatMul(logDiag, logJ);
      if (l < last) {
        h = activate(a, this.activation);
        const fo = (a.shape[1] as number) / d;
        logJ = tf.add(chained, tf.reshape(logActivationGrad(a, this.activation), [n, d, fo, 1]));
      } else {
        h = a;
        logJ = chained;
      }
    }
    let logDiagJ = tf.reshape(logJ as tf.Tensor, [n, d]);
    let y = h;
    if (this.residual === 'normal') {
      y = tf.add(x2, h);
      logDiagJ = tf.softplus(logDiagJ);
    } else if (this.residual === 'gated') {
      const gate = tf.reshape(this.gate as tf.Tensor, []);
      const alpha = tf.sigmoid(gate);
      y = tf.add(tf.mul(alpha, x2), tf.mul(tf.sub(1, alpha), h));
      // log α = -softplus(-g), log(1 - α) = -softplus(g)
      const logA = tf.neg(tf.softplus(tf.neg(gate)));
      const log1mA = tf.neg(tf.softplus(gate));
      logDiagJ = tf.add(logA, tf.softplus(tf.add(tf.sub(log1mA, logA), logDiagJ)));
    }
    return { y: tf.reshape(y, x.shape), logDet: tf.reshape(tf.sum(logDiagJ, -1), lead) };
  }

  /** No closed-form inverse (Pyro's raises too). @throws NotDefinedError */
  protected _inverse(): tf.Tensor {
    throw new NotDefinedError(
      `${this.name}: a block neural autoregressive flow has no closed-form inverse (as Pyro's ` +
        'BlockAutoregressive); a flow guide only needs the forward map and its log-determinant',
    );
  }
}
