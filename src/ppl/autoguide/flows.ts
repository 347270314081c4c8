/**
 * Learnable flow factories for `AutoNormalizingFlow` (Pyro's `init_transform_fn`, e.g.
 * `functools.partial(iterated, 2, block_autoregressive)`): a {@link FlowFactory} is called as
 * `factory(D, p)` on every guide call and builds a bijector of `R^D` whose learnable tensors it
 * reads with `p(name, init, options)` (the guide's `param`, names prefixed by the guide), so that
 * SVI trains them as any other parameter. The factories here:
 *
 * - {@link affineFlow}: `y = μ + σ ⊙ x` (diagonal, `σ > 0`), `log|det J| = Σ_k log σ_k`;
 * - {@link iafFlow}: an inverse autoregressive flow (Kingma et al. 2016) on a MADE network,
 *   `y = m(x) + e^{s(x)} ⊙ x`, `log|det J| = Σ_k s_k(x)`;
 * - {@link affineCouplingFlow}: RealNVP's affine coupling (Dinh et al. 2017), with
 *   `x = (x_a, x_b)`, `y_a = x_a`, `y_b = m(x_a) + e^{s(x_a)} ⊙ x_b`, `log|det J| = Σ s(x_a)`;
 * - {@link bnafFlow}: a block neural autoregressive flow (`bijectors.BlockAutoregressive`);
 * - {@link iterated}: `n` flows composed, the coordinates reversed between them.
 */
import * as tf from '@tensorflow/tfjs';
import {
  Bijector,
  type ForwardResult,
  type InverseResult,
  type TensorInput,
} from '../../bijectors/bijector.js';
import { Affine } from '../../bijectors/affine.js';
import { Chain } from '../../bijectors/chain.js';
import { BlockAutoregressive } from '../../bijectors/block_autoregressive.js';
import {
  blockAutoregressiveSizes,
  initBlockAutoregressive,
  type BlockAutoregressiveLayer,
} from '../../bijectors/block_autoregressive_layers.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { nextSeed } from '../../utils/seed.js';
import { positive, type Constraint } from '../constraints.js';
import { iafStep, madeMasks, type MadeWeights } from './auto_iaf.js';
import {
  CouplingBijector,
  checkSplitDim,
  couplingSplit,
  hiddenLayers,
  normalInit,
  reluStack,
  type Dense,
} from './coupling.js';

/** What a flow factory gets to read its learnable tensors (the guide's `param`, prefixed). */
export type FlowParam = (
  name: string,
  init: () => tf.Tensor,
  options?: { constraint?: Constraint },
) => tf.Tensor;

/**
 * A learnable transform of `R^D` (Pyro's `init_transform_fn`): called on every guide call with
 * the latent dimension `D` and the parameter reader; returns a bijector with domain and
 * codomain `R^D` (event dim 1, or an elementwise one).
 */
export type FlowFactory = (latentDim: number, param: FlowParam) => Bijector;

/**
 * A flow's hidden layer sizes (`undefined`: the flow's default).
 * @throws ArgumentError naming `name` unless a non-empty array of integers >= 1.
 * @internal
 */
export function checkHidden(h: unknown, name: string): number[] | undefined {
  if (h === undefined) return undefined;
  if (!Array.isArray(h) || h.length === 0 || h.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new ArgumentError(name, `expected a non-empty array of integers >= 1, got ${String(h)}`);
  }
  return [...(h as number[])];
}

/**
 * A flow factory's options: an object of the known `keys`.
 * @throws ArgumentError naming `options` or the unknown key.
 * @internal
 */
export function checkFlowOptions(options: object, keys: string[], what: string): void {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, keys, what);
}

/**
 * The diagonal affine flow `y = μ + σ ⊙ x` (parameters `loc` `[D]` from 0, `scale` `[D]` from 1,
 * constrained positive), `log|det J| = Σ_k log σ_k`. One affine flow makes
 * `AutoNormalizingFlow` a mean-field Normal guide (`AutoDiagonalNormal`).
 */
export function affineFlow(): FlowFactory {
  return (d, p) =>
    new Affine(
      p('loc', () => tf.zeros([d])),
      p('scale', () => tf.ones([d]), { constraint: positive }),
      { eventDim: 1 },
    );
}

/** Options of {@link iafFlow}. */
export interface IAFFlowOptions {
  /** Hidden layer sizes of the MADE network. Default `[max(8, 3 D)]`. */
  hiddenDims?: number[];
}

/**
 * An inverse autoregressive flow (Kingma et al. 2016; Pyro's `AffineAutoregressive` on an
 * `AutoRegressiveNN`), the map of one `AutoIAFNormal` step:
 *
 * $$y = m(x) + e^{s(x)} \odot x,\qquad \log\lvert\det J\rvert = \textstyle\sum_k s_k(x)$$
 *
 * with `m`, `s` from a MADE network (output `k` sees inputs before `k`), `s` clamped to
 * `[-5, 3]`; started near the identity (small output weights). Its inverse takes `D`
 * fixed-point passes (exact for an autoregressive map).
 * @param options `hiddenDims`.
 */
export function iafFlow(options: IAFFlowOptions = {}): FlowFactory {
  checkFlowOptions(options, ['hiddenDims'], 'iafFlow');
  const hiddenOption = checkHidden(options.hiddenDims, 'hiddenDims');
  return (d, p) => {
    const hiddenDims = hiddenOption ?? [Math.max(8, 3 * d)];
    const order = Array.from({ length: d }, (_, i) => i);
    const masks = madeMasks(order, hiddenDims);
    const sizes = [d, ...hiddenDims];
    const last = sizes[sizes.length - 1] as number;
    const weights: MadeWeights = {
      hidden: hiddenDims.map((h, l) => {
        const n = sizes[l] as number;
        return {
          w: p(`w${l}`, normalInit([n, h], 1 / Math.sqrt(n))),
          b: p(`b${l}`, () => tf.zeros([h])),
          mask: tf.tensor2d(masks.hidden[l] as number[][], [n, h]),
        };
      }),
      shift: { w: p('shift_w', normalInit([last, d], 0.01)), b: p('shift_b', () => tf.zeros([d])) },
      logScale: {
        w: p('scale_w', normalInit([last, d], 0.01)),
        b: p('scale_b', () => tf.zeros([d])),
      },
      outMask: tf.tensor2d(masks.out, [last, d]),
    };
    return new InverseAutoregressive(d, weights);
  };
}

/**
 * The bijector of one IAF step on MADE weights (see {@link iafFlow}); owns its masks.
 * @internal
 */
export class InverseAutoregressive extends Bijector {
  constructor(
    readonly dim: number,
    private readonly weights: MadeWeights,
  ) {
    super();
    for (const l of weights.hidden) this.adopt(l.mask);
    this.adopt(weights.outMask);
  }
  override get eventRank(): number {
    return 1;
  }
  /** A point of `R^dim` (`[..., dim]`), named when not. */
  protected override point(v: TensorInput, name: string, eventDim: number): tf.Tensor {
    const t = super.point(v, name, eventDim);
    this.checkEventSize(t, name, this.dim);
    return t;
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const flat = tf.reshape(x, [-1, this.dim]);
    const { y, logScale } = iafStep(flat, this.weights);
    return {
      y: tf.reshape(y, x.shape),
      logDet: tf.reshape(tf.sum(logScale, -1), x.shape.slice(0, -1)),
    };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    const flat = tf.reshape(y, [-1, this.dim]);
    let x = flat;
    for (let k = 0; k < this.dim; k++) {
      const { y: yx, logScale } = iafStep(x, this.weights);
      const e = tf.exp(logScale);
      x = tf.div(tf.sub(flat, tf.sub(yx, tf.mul(e, x))), e);
    }
    return tf.reshape(x, y.shape);
  }
}

/** Options of {@link affineCouplingFlow}. */
export interface AffineCouplingFlowOptions {
  /** Hidden layer sizes of the conditioner network. Default `[max(8, 2 D)]`. */
  hiddenDims?: number[];
  /** Number of leading coordinates passed through unchanged. Default `floor(D / 2)`. */
  splitDim?: number;
}

/**
 * RealNVP's affine coupling flow (Dinh et al. 2017; Pyro's `AffineCoupling`): with `x = (x_a,
 * x_b)`, `x_a` the first `splitDim` coordinates,
 *
 * $$y_a = x_a,\quad y_b = m(x_a) + e^{s(x_a)} \odot x_b,\qquad
 *   \log\lvert\det J\rvert = \textstyle\sum_k s_k(x_a),\qquad x_b = (y_b - m(y_a)) e^{-s(y_a)}$$
 *
 * (`m`, `s` from a ReLU network of `x_a`, `s` clamped to `[-5, 3]`, started near the identity).
 * Needs `D >= 2`; compose with {@link iterated} so that every coordinate is transformed.
 * @param options `hiddenDims`, `splitDim`.
 */
export function affineCouplingFlow(options: AffineCouplingFlowOptions = {}): FlowFactory {
  checkFlowOptions(options, ['hiddenDims', 'splitDim'], 'affineCouplingFlow');
  const hiddenOption = checkHidden(options.hiddenDims, 'hiddenDims');
  const split = checkSplitDim(options.splitDim);
  return (d, p) => {
    const a = couplingSplit(d, split, 'affineCouplingFlow');
    const hiddenDims = hiddenOption ?? [Math.max(8, 2 * d)];
    const layers = hiddenLayers(p, a, hiddenDims);
    const last = hiddenDims[hiddenDims.length - 1] as number;
    const shift = {
      w: p('shift_w', normalInit([last, d - a], 0.01)),
      b: p('shift_b', () => tf.zeros([d - a])),
    };
    const logScale = {
      w: p('scale_w', normalInit([last, d - a], 0.01)),
      b: p('scale_b', () => tf.zeros([d - a])),
    };
    return new AffineCoupling(d, a, layers, shift, logScale);
  };
}

/** The bijector of {@link affineCouplingFlow}. @internal */
export class AffineCoupling extends CouplingBijector {
  constructor(
    dim: number,
    splitDim: number,
    private readonly layers: Dense[],
    private readonly shift: Dense,
    private readonly logScale: Dense,
  ) {
    super(dim, splitDim);
  }
  /** `m(x_a)`, `s(x_a)` for `x_a` `[n, a]`. */
  private conditioner(xa: tf.Tensor): { m: tf.Tensor; s: tf.Tensor } {
    const h = reluStack(xa, this.layers);
    const m = tf.add(tf.matMul(h, this.shift.w), this.shift.b);
    const s = tf.clipByValue(tf.add(tf.matMul(h, this.logScale.w), this.logScale.b), -5, 3);
    return { m, s };
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const [xa, xb] = this.parts(x);
    const { m, s } = this.conditioner(xa);
    const yb = tf.add(m, tf.mul(tf.exp(s), xb));
    return {
      y: tf.reshape(tf.concat([xa, yb], -1), x.shape),
      logDet: tf.reshape(tf.sum(s, -1), x.shape.slice(0, -1)),
    };
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const [ya, yb] = this.parts(y);
    const { m, s } = this.conditioner(ya);
    const xb = tf.mul(tf.sub(yb, m), tf.exp(tf.neg(s)));
    return {
      x: tf.reshape(tf.concat([ya, xb], -1), y.shape),
      logDet: tf.reshape(tf.neg(tf.sum(s, -1)), y.shape.slice(0, -1)),
    };
  }
}

/** Options of {@link bnafFlow}. */
export interface BNAFFlowOptions {
  /** Hidden units per latent dimension of each hidden layer. Default `[8, 8]` (Pyro). */
  hiddenFactors?: number[];
}

/**
 * A block neural autoregressive flow (De Cao et al. 2019; Pyro's `block_autoregressive`), the
 * `bijectors.BlockAutoregressive` of masked block weight-normalized layers with tanh between
 * them, its parameters initialized as Pyro's. It has no closed-form inverse: the guide scores
 * its own draws by their forward log-determinants.
 * @param options `hiddenFactors`.
 */
export function bnafFlow(options: BNAFFlowOptions = {}): FlowFactory {
  checkFlowOptions(options, ['hiddenFactors'], 'bnafFlow');
  const factors = options.hiddenFactors ?? [8, 8];
  blockAutoregressiveSizes(1, factors); // checks the factors, naming hiddenFactors
  return (d, p) => {
    let init: BlockAutoregressiveLayer<number[][] | number[]>[] | undefined;
    const initOf = (): BlockAutoregressiveLayer<number[][] | number[]>[] =>
      (init ??= initBlockAutoregressive(d, factors, nextSeed()));
    const layers = factors.concat([1]).map((_, l) => ({
      weight: p(`layers.${l}.weight`, () =>
        tf.tensor((initOf()[l] as BlockAutoregressiveLayer<number[][]>).weight),
      ),
      diagWeight: p(`layers.${l}.diag_weight`, () =>
        tf.tensor((initOf()[l] as BlockAutoregressiveLayer<number[]>).diagWeight),
      ),
      bias: p(`layers.${l}.bias`, () =>
        tf.tensor((initOf()[l] as BlockAutoregressiveLayer<number[]>).bias),
      ),
    }));
    return new BlockAutoregressive(d, { layers, residual: null });
  };
}

/** Reverses the last dim: `y_k = x_{D-1-k}`, `log|det J| = 0`. @internal */
export class ReverseLast extends Bijector {
  override get eventRank(): number {
    return 1;
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    return { y: tf.reverse(x, -1), logDet: tf.zeros(x.shape.slice(0, -1)) };
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return tf.reverse(y, -1);
  }
}

/**
 * `n` flows of `factory` composed (Pyro's `iterated(n, f)`), the coordinates reversed between
 * successive flows so that an autoregressive or coupling flow conditions every coordinate:
 *
 * $$T = f_n \circ P \circ \cdots \circ P \circ f_1,\qquad
 *   \log\lvert\det J_T\rvert = \textstyle\sum_t \log\lvert\det J_{f_t}\rvert$$
 *
 * (`P` the reversal). Flow `t`'s parameters are named `${t}.<name>`.
 * @param n number of flows (an integer >= 1).
 * @param factory the flow of each step, e.g. {@link iafFlow}.
 */
export function iterated(n: number, factory: FlowFactory): FlowFactory {
  if (!Number.isInteger(n) || n < 1) {
    throw new ArgumentError('n', `expected an integer >= 1, got ${String(n)}`);
  }
  if (typeof factory !== 'function') {
    throw new ArgumentError('factory', 'expected a flow factory (latentDim, param) => Bijector');
  }
  return (d, p) => {
    const parts: Bijector[] = [];
    for (let t = 0; t < n; t++) {
      if (t > 0) parts.push(new ReverseLast());
      parts.push(factory(d, (name, init, options) => p(`${t}.${name}`, init, options)));
    }
    if (parts.length === 1) return parts[0] as Bijector;
    // Chain applies its last part first; it owns the parts (freed with it)
    const chain = new Chain([...parts].reverse());
    for (const b of parts) chain.adopt(b);
    return chain;
  };
}
