/**
 * The rational-quadratic spline coupling flow (Durkan et al. 2019, "Neural Spline Flows"; Pyro's
 * `spline_coupling`) for `AutoNormalizingFlow`: with `x = (x_a, x_b)`, `y_a = x_a` and each
 * coordinate of `x_b` mapped by a monotone rational-quadratic spline on `[-B, B]` (the identity
 * outside) whose `K` bin widths `w_k`, heights `h_k` and inner knot derivatives `δ_k` come from a
 * ReLU network of `x_a`. In bin `k` (knots `(x_k, y_k)`, `s_k = h_k / w_k`, `ξ = (x - x_k)/w_k`):
 *
 * $$y = y_k + \frac{h_k\,[s_k \xi^2 + \delta_k \xi(1-\xi)]}{s_k + (\delta_{k+1} + \delta_k - 2 s_k)\,\xi(1-\xi)},\qquad
 *   \frac{dy}{dx} = \frac{s_k^2\,[\delta_{k+1}\xi^2 + 2 s_k \xi(1-\xi) + \delta_k (1-\xi)^2]}
 *   {[s_k + (\delta_{k+1} + \delta_k - 2 s_k)\,\xi(1-\xi)]^2}$$
 *
 * (`δ_0 = δ_K = 1`, so the spline meets the identity at `±B`), `log|det J| = Σ log dy/dx`; the
 * inverse solves the quadratic in `ξ`. Widths and heights are `softmax` of the network's outputs
 * (at least `1e-3` of the interval each), derivatives `softplus` plus `1e-3`.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardResult, InverseResult } from '../../bijectors/bijector.js';
import { ArgumentError } from '../../utils/errors.js';
import { cumsumLast } from '../../utils/linalg.js';
import { noGrad } from '../../distributions/special.js';
import { nextSeed } from '../../utils/seed.js';
import {
  CouplingBijector,
  checkSplitDim,
  couplingSplit,
  hiddenLayers,
  reluStack,
  type Dense,
} from './coupling.js';
import { checkFlowOptions, checkHidden, type FlowFactory } from './flows.js';

const MIN_BIN = 1e-3;
const MIN_DERIVATIVE = 1e-3;

/** Options of {@link splineCouplingFlow}. */
export interface SplineCouplingFlowOptions {
  /** Hidden layer sizes of the conditioner network. Default `[max(8, 2 D)]`. */
  hiddenDims?: number[];
  /** Number of leading coordinates passed through unchanged. Default `floor(D / 2)`. */
  splitDim?: number;
  /** Number of bins `K`. Default 8 (Pyro). */
  count?: number;
  /** Half-width `B` of the spline's interval. Default 3 (Pyro). */
  bound?: number;
}

/** The spline's knots for unnormalized widths/heights/derivatives `[n, m, K]`, `[.., K-1]`. */
function knots(
  uw: tf.Tensor,
  uh: tf.Tensor,
  ud: tf.Tensor,
  bound: number,
): { xk: tf.Tensor; yk: tf.Tensor; w: tf.Tensor; h: tf.Tensor; d: tf.Tensor } {
  const k = uw.shape[uw.rank - 1] as number;
  const norm = (u: tf.Tensor): tf.Tensor =>
    tf.mul(tf.add(tf.mul(tf.softmax(u), 1 - MIN_BIN * k), MIN_BIN), 2 * bound);
  const w = norm(uw);
  const h = norm(uh);
  const lead = [...uw.shape.slice(0, -1), 1];
  const start = tf.fill(lead, -bound);
  // left knots: -B + cumulative sums (exclusive)
  const xk = tf.add(start, cumsumLast(w, true));
  const yk = tf.add(start, cumsumLast(h, true));
  const one = tf.ones(lead);
  const d = tf.concat([one, tf.add(tf.softplus(ud), MIN_DERIVATIVE), one], -1); // [.., K+1]
  return { xk, yk, w, h, d };
}

/** The bin of each `v` (`[n, m]`) among left knots `[n, m, K]` as a one-hot `[n, m, K]`. */
function binOf(v: tf.Tensor, left: tf.Tensor): tf.Tensor {
  const k = left.shape[left.rank - 1] as number;
  const idx = tf.sub(tf.sum(tf.cast(tf.greaterEqual(tf.expandDims(v, -1), left), 'int32'), -1), 1);
  const clipped = tf.cast(tf.clipByValue(idx, 0, k - 1), 'int32');
  return tf
    .cast(tf.oneHot(tf.reshape(clipped, [-1]) as tf.Tensor1D, k), 'float32')
    .reshape([...v.shape, k]);
}

const pick = (t: tf.Tensor, oh: tf.Tensor): tf.Tensor => tf.sum(tf.mul(t, oh), -1);

/** Whether `v` is in `[-B, B]` (off the gradient tape: comparisons have no gradient). */
const within = (v: tf.Tensor, bound: number): tf.Tensor =>
  tf.cast(
    noGrad(
      (c) => tf.cast(tf.logicalAnd(tf.greaterEqual(c, -bound), tf.lessEqual(c, bound)), 'float32'),
      v,
    ),
    'bool',
  );

/**
 * The bin of each `v` `[n, m]` among the left knots `left` (`xk` for the forward map, `yk` for the
 * inverse) and that bin's knot `(x_k, y_k)`, width `w_k`, height `h_k`, derivatives `δ_k`,
 * `δ_{k+1}` and slope `s_k = h_k / w_k`; `inside`: `v ∈ [-B, B]`.
 */
function binned(
  v: tf.Tensor,
  left: 'xk' | 'yk',
  kn: ReturnType<typeof knots>,
  count: number,
  bound: number,
): Record<'x0' | 'y0' | 'wk' | 'hk' | 'dk' | 'dk1' | 's' | 'inside', tf.Tensor> {
  const { xk, yk, w, h, d } = kn;
  const inside = within(v, bound);
  const oh = noGrad(binOf, v, kn[left]);
  const wk = pick(w, oh);
  const hk = pick(h, oh);
  const lead = d.shape.slice(0, -1);
  const dk = pick(tf.slice(d, [...lead.map(() => 0), 0], [...lead, count]), oh);
  const dk1 = pick(tf.slice(d, [...lead.map(() => 0), 1], [...lead, count]), oh);
  return { x0: pick(xk, oh), y0: pick(yk, oh), wk, hk, dk, dk1, s: tf.div(hk, wk), inside };
}

/**
 * `log dy/dx` in a bin at `ξ` (`ξ(1 - ξ)` = `xi1`, the denominator `den`): `log(s_k^2 [δ_{k+1} ξ^2
 * + 2 s_k ξ(1-ξ) + δ_k (1-ξ)^2]) - 2 log den`.
 */
function logSlope(
  s: tf.Tensor,
  dk: tf.Tensor,
  dk1: tf.Tensor,
  xi: tf.Tensor,
  xi1: tf.Tensor,
  den: tf.Tensor,
): tf.Tensor {
  const dnum = tf.mul(
    tf.square(s),
    tf.add(
      tf.add(tf.mul(dk1, tf.square(xi)), tf.mul(tf.mul(2, s), xi1)),
      tf.mul(dk, tf.square(tf.sub(1, xi))),
    ),
  );
  return tf.sub(tf.log(dnum), tf.mul(2, tf.log(den)));
}

/** The bijector of {@link splineCouplingFlow}. @internal */
export class SplineCoupling extends CouplingBijector {
  constructor(
    dim: number,
    splitDim: number,
    readonly count: number,
    readonly bound: number,
    private readonly layers: Dense[],
    private readonly head: Dense,
  ) {
    super(dim, splitDim);
  }
  /** The spline's parameters for each `x_b` coordinate, `[n, m, ...]`. */
  private spline(xa: tf.Tensor): ReturnType<typeof knots> {
    const hdn = reluStack(xa, this.layers);
    const n = xa.shape[0] as number;
    const m = this.dim - this.splitDim;
    const k = this.count;
    const out = tf.reshape(tf.add(tf.matMul(hdn, this.head.w), this.head.b), [n, m, 3 * k - 1]);
    const uw = tf.slice(out, [0, 0, 0], [n, m, k]);
    const uh = tf.slice(out, [0, 0, k], [n, m, k]);
    const ud = tf.slice(out, [0, 0, 2 * k], [n, m, k - 1]);
    return knots(uw, uh, ud, this.bound);
  }
  protected _forwardAndLogDet(x: tf.Tensor): ForwardResult {
    const [xa, xb] = this.parts(x);
    const bin = binned(xb, 'xk', this.spline(xa), this.count, this.bound);
    const { x0, y0, wk, hk, dk, dk1, s, inside } = bin;
    const xi = tf.clipByValue(tf.div(tf.sub(xb, x0), wk), 0, 1);
    const xi1 = tf.mul(xi, tf.sub(1, xi));
    const den = tf.add(s, tf.mul(tf.sub(tf.add(dk1, dk), tf.mul(2, s)), xi1));
    const num = tf.mul(hk, tf.add(tf.mul(s, tf.square(xi)), tf.mul(dk, xi1)));
    const ySpline = tf.add(y0, tf.div(num, den));
    const ld = logSlope(s, dk, dk1, xi, xi1, den);
    const yb = tf.where(inside, ySpline, xb);
    const ldb = tf.where(inside, ld, tf.zerosLike(ld));
    return {
      y: tf.reshape(tf.concat([xa, yb], -1), x.shape),
      logDet: tf.reshape(tf.sum(ldb, -1), x.shape.slice(0, -1)),
    };
  }
  protected override _inverseAndLogDet(y: tf.Tensor): InverseResult {
    const [ya, yb] = this.parts(y);
    const bin = binned(yb, 'yk', this.spline(ya), this.count, this.bound);
    const { x0, y0, wk, hk, dk, dk1, s, inside } = bin;
    const dy = tf.sub(yb, y0);
    const c2 = tf.sub(tf.add(dk1, dk), tf.mul(2, s));
    const a = tf.add(tf.mul(hk, tf.sub(s, dk)), tf.mul(dy, c2));
    const b = tf.sub(tf.mul(hk, dk), tf.mul(dy, c2));
    const c = tf.neg(tf.mul(s, dy));
    const disc = tf.relu(tf.sub(tf.square(b), tf.mul(4, tf.mul(a, c))));
    const xi = tf.clipByValue(tf.div(tf.mul(2, c), tf.sub(tf.neg(b), tf.sqrt(disc))), 0, 1);
    const xSpline = tf.add(x0, tf.mul(xi, wk));
    const xi1 = tf.mul(xi, tf.sub(1, xi));
    const den = tf.add(s, tf.mul(c2, xi1));
    const ld = logSlope(s, dk, dk1, xi, xi1, den);
    const xb = tf.where(inside, xSpline, yb);
    const ldb = tf.where(inside, tf.neg(ld), tf.zerosLike(ld));
    return {
      x: tf.reshape(tf.concat([ya, xb], -1), y.shape),
      logDet: tf.reshape(tf.sum(ldb, -1), y.shape.slice(0, -1)),
    };
  }
}

/**
 * A rational-quadratic spline coupling flow (Pyro's `spline_coupling`; see the module's
 * formulas). Needs `D >= 2`; compose with `iterated` so that every coordinate is transformed.
 * @param options `hiddenDims`, `splitDim`, `count` (bins, default 8), `bound` (default 3).
 */
export function splineCouplingFlow(options: SplineCouplingFlowOptions = {}): FlowFactory {
  checkFlowOptions(options, ['hiddenDims', 'splitDim', 'count', 'bound'], 'splineCouplingFlow');
  const h0 = checkHidden(options.hiddenDims, 'hiddenDims');
  const count = options.count ?? 8;
  if (!Number.isInteger(count) || count < 2) {
    throw new ArgumentError('count', `expected an integer >= 2, got ${String(count)}`);
  }
  const bound = options.bound ?? 3;
  if (!(typeof bound === 'number' && bound > 0 && Number.isFinite(bound))) {
    throw new ArgumentError('bound', `expected a finite number > 0, got ${String(bound)}`);
  }
  const split = checkSplitDim(options.splitDim);
  return (d, p) => {
    const a = couplingSplit(d, split, 'splineCouplingFlow');
    const hidden = h0 ?? [Math.max(8, 2 * d)];
    const layers = hiddenLayers(p, a, hidden);
    const last = hidden[hidden.length - 1] as number;
    const out = (d - a) * (3 * count - 1);
    // small output weights: near equal bins and unit derivatives, i.e. near the identity
    const head = {
      w: p('head_w', () => tf.randomNormal([last, out], 0, 0.01, 'float32', nextSeed())),
      b: p('head_b', () => {
        const row = [
          ...new Array<number>(2 * count).fill(0),
          // softplus(u) + 1e-3 = 1 at u = log(e^{1 - 1e-3} - 1)
          ...new Array<number>(count - 1).fill(Math.log(Math.expm1(1 - MIN_DERIVATIVE))),
        ];
        return tf.tensor1d(Array.from({ length: d - a }, () => row).flat());
      }),
    };
    return new SplineCoupling(d, a, count, bound, layers, head);
  };
}
