/**
 * The linear-Gaussian state-space model as one distribution over a sequence of observations
 * (Pyro's `GaussianHMM`): the Gaussian hidden state is integrated out by the Kalman filter.
 *
 * With hidden dimension `H` and observed dimension `O`, row vectors and, for `t = 0, ..., T-1`,
 *
 * $$z_{-1} \sim \mathcal N(\mu_0, \Sigma_0),\qquad z_t = z_{t-1} A_t + w_t,\quad
 *   w_t \sim \mathcal N(b_t, Q_t),\qquad y_t = z_t C_t + v_t,\quad v_t \sim \mathcal N(d_t, R_t)$$
 *
 * (`A_t` `[H, H]` ordered (old, new), `C_t` `[H, O]`; one of each for all `t` when they have no
 * time dim). `log p(y) = sum_t log N(y_t; m_t C_t + d_t, C_t^T P_t C_t + R_t)` with the predicted
 * moments `m_t`, `P_t` of `z_t` given `y_0..y_{t-1}` (the Kalman filter, `T` steps, each a
 * Cholesky factorization of the `O x O` innovation covariance). Event shape `[T, O]`; batch shape
 * the broadcast of the parameters' batch dims left of time. As Pyro's, a model whose parameters
 * have no time dim has an unknown duration (event shape `[1, O]`) and scores sequences of any
 * length; `duration` fixes it for `rsample`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { deriveSeeds } from '../utils/seed.js';
import { broadcastShapes, type TensorInput } from '../utils/tensor.js';
import { cholesky, matrixDiag, matrixTranspose, triangularSolve } from '../utils/linalg.js';
import { independent, real, type Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import { MultivariateNormal } from './mvn.js';
import { gaussianMoments, type Moments } from './gaussian_moments.js';
import './expanded.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Options of {@link GaussianHMM}. */
export interface GaussianHMMOptions extends DistributionOptions {
  /**
   * The length `T` of the sequences (Pyro's `duration`): needed to `rsample` a model whose
   * parameters have no time dim; must equal their time dim when they have one (not 1).
   */
  duration?: number;
}

const shapeStr = (s: readonly number[]): string => `[${s.join(',')}]`;

/**
 * A linear-Gaussian hidden Markov model (Pyro's `GaussianHMM`), a distribution over sequences
 * `[..., T, O]`, scored by the Kalman filter and drawn by reparameterization.
 *
 * The distributions and matrices given stay the caller's; `dispose` frees the moments this one
 * made.
 *
 * @example
 * ```ts
 * // a local-level model: z_t = z_{t-1} + w_t, y_t = z_t + v_t
 * const hmm = new GaussianHMM(
 *   new Normal([0], [10]).toEvent(1), // z_{-1}
 *   [[1]],                            // A [H, H]
 *   new Normal([0], [0.3]).toEvent(1), // w_t
 *   [[1]],                            // C [H, O]
 *   new Normal([0], [1]).toEvent(1),  // v_t
 * );
 * hmm.logProb(tf.tensor2d([[0.1], [0.5], [0.2]])); // log p(y), z integrated out
 * hmm.filter(ys);                                    // MultivariateNormal p(z_{T-1} | y)
 * ```
 */
export class GaussianHMM extends Distribution {
  /** The hidden dimension `H`. */
  readonly hiddenDim: number;
  /** The observed dimension `O`. */
  readonly obsDim: number;
  /** The sequence length, when known (from the parameters' time dim or `duration`). */
  readonly duration: number | undefined;
  private readonly batch: number[];
  private readonly event: number[];
  private readonly init: Moments;
  private readonly transMatrix: tf.Tensor;
  private readonly trans: Moments;
  private readonly obsMatrix: tf.Tensor;
  private readonly obs: Moments;

  /**
   * @param initialDist the state before the first step, `z_{-1}`: event shape `[H]`, batch
   *   broadcasting to the batch shape (a `MultivariateNormal`, `MultivariateNormalDiag` or
   *   `Normal(...).toEvent(1)`, as all three distributions here).
   * @param transitionMatrix `A`, shape `[..., H, H]` or `[..., T, H, H]` (old, new).
   * @param transitionDist the process noise `w_t`: event `[H]`, batch `[...]` or `[..., T]`.
   * @param observationMatrix `C`, shape `[..., H, O]` or `[..., T, H, O]`.
   * @param observationDist the observation noise `v_t`: event `[O]`, batch `[...]` or `[..., T]`.
   * @param options `duration` (Pyro's), validation flag and name.
   * @throws ArgumentError naming the argument whose family, event shape or matrix shape does not
   *   fit `H` (from `observationMatrix`) and `O`, dims that do not broadcast, or a bad `duration`.
   */
  constructor(
    initialDist: Distribution,
    transitionMatrix: TensorInput,
    transitionDist: Distribution,
    observationMatrix: TensorInput,
    observationDist: Distribution,
    options: GaussianHMMOptions = {},
  ) {
    const { duration, ...base } = options;
    super(base);
    if (
      duration !== undefined &&
      (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1)
    ) {
      throw new ArgumentError('duration', `expected a positive integer, got ${String(duration)}`);
    }
    const om = this.param(observationMatrix, 'observationMatrix');
    if (om.rank < 2) {
      throw this.constructionError(
        'observationMatrix',
        `expected shape [..., H, O] or [..., T, H, O], got ${shapeStr(om.shape)}`,
      );
    }
    const H = om.shape.at(-2) as number;
    const O = om.shape.at(-1) as number;
    const tm = this.param(transitionMatrix, 'transitionMatrix');
    if (tm.rank < 2 || tm.shape.at(-1) !== H || tm.shape.at(-2) !== H) {
      throw this.constructionError(
        'transitionMatrix',
        `expected shape [..., H, H] or [..., T, H, H] with H = ${H} (the rows of ` +
          `observationMatrix ${shapeStr(om.shape)}), got ${shapeStr(tm.shape)}`,
      );
    }
    const moments: Moments[] = [];
    try {
      moments.push(gaussianMoments(initialDist, 'initialDist', H));
      moments.push(gaussianMoments(transitionDist, 'transitionDist', H));
      moments.push(gaussianMoments(observationDist, 'observationDist', O));
    } catch (e) {
      moments.forEach((m) => tf.dispose([m.loc, m.cov]));
      this.dispose();
      throw e;
    }
    for (const m of moments) {
      this.own(m.loc);
      this.own(m.cov);
    }
    [this.init, this.trans, this.obs] = moments as [Moments, Moments, Moments];
    const full = this.broadcastParams({
      initialDist: [...initialDist.batchShape, 1],
      transitionMatrix: tm.shape.slice(0, -2),
      transitionDist: transitionDist.batchShape,
      observationMatrix: om.shape.slice(0, -2),
      observationDist: observationDist.batchShape,
    });
    this.checkFinite(tm, 'transitionMatrix');
    this.checkFinite(om, 'observationMatrix');
    const time = full.at(-1) as number;
    if (duration !== undefined && time !== 1 && duration !== time) {
      throw this.constructionError(
        'duration',
        `expected the time dim of the parameters, ${time}, got ${duration}`,
      );
    }
    this.hiddenDim = H;
    this.obsDim = O;
    this.duration = duration ?? (time !== 1 ? time : undefined);
    this.batch = full.slice(0, -1);
    this.event = [this.duration ?? 1, O];
    this.transMatrix = tm;
    this.obsMatrix = om;
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [...this.event];
  }
  override get support(): Constraint {
    return independent(real, 2);
  }
  /** With an unknown duration, a value's time dim is its own. @internal */
  override eventShapeFor(valueShape: readonly number[]): number[] {
    const t = valueShape[valueShape.length - 2];
    if (this.duration !== undefined || t === undefined || t < 1) return this.eventShape;
    return [t, this.obsDim];
  }

  /**
   * The step parameters broadcast to `[...lead, T, ...]` and split along time: the transition
   * and observation matrices, noise means and covariances for each step.
   */
  private steps(lead: number[], T: number, rows = false): tf.Tensor[][] {
    const H = this.hiddenDim;
    const O = this.obsDim;
    const at = (x: tf.Tensor, tail: number[]): tf.Tensor[] => {
      const withTime = x.rank >= tail.length + 1 ? x : tf.reshape(x, [1, ...x.shape]);
      return tf.unstack(tf.broadcastTo(withTime, [...lead, T, ...tail]), lead.length);
    };
    // a noise distribution's batch ends with time; pad a batch-free one with a time dim of 1
    const padTime = (x: tf.Tensor, tail: number): tf.Tensor =>
      x.rank === tail ? tf.reshape(x, [1, ...x.shape]) : x;
    // the noise means as vectors [..., n] or, with rows, row vectors [..., 1, n]
    const vec = (x: tf.Tensor, n: number): tf.Tensor[] =>
      rows ? at(tf.expandDims(padTime(x, 1), -2), [1, n]) : at(padTime(x, 1), [n]);
    return [
      at(this.transMatrix, [H, H]),
      vec(this.trans.loc, H),
      at(padTime(this.trans.cov, 2), [H, H]),
      at(this.obsMatrix, [H, O]),
      vec(this.obs.loc, O),
      at(padTime(this.obs.cov, 2), [O, O]),
    ];
  }

  /**
   * The Kalman filter over `value` `[...VB, T, O]`: the log-likelihood (shape `[...FB]`) and the
   * filtered moments of the last state.
   */
  private kalman(value: tf.Tensor): { ll: tf.Tensor; m: tf.Tensor; p: tf.Tensor } {
    const H = this.hiddenDim;
    const O = this.obsDim;
    const T = value.shape[value.rank - 2] as number;
    const lead = broadcastShapes({
      value: value.shape.slice(0, -2),
      batch: this.batch,
    });
    const [A, B, Q, C, D, R] = this.steps(lead, T, true) as [
      tf.Tensor[],
      tf.Tensor[],
      tf.Tensor[],
      tf.Tensor[],
      tf.Tensor[],
      tf.Tensor[],
    ];
    const ys = tf.unstack(
      tf.broadcastTo(tf.expandDims(value, -2), [...lead, T, 1, O]),
      lead.length,
    );
    let m = tf.expandDims(tf.broadcastTo(this.init.loc, [...lead, H]), -2); // [..., 1, H]
    let p = tf.broadcastTo(this.init.cov, [...lead, H, H]);
    const quads: tf.Tensor[] = []; // per step: (y - yhat)^T S^{-1} (y - yhat) / 2 + log|L|
    for (let t = 0; t < T; t++) {
      const a = A[t]!;
      const c = C[t]!;
      // predict z_t
      m = tf.add(tf.matMul(m, a), B[t]!);
      p = tf.add(tf.matMul(tf.matMul(a, p, true, false), a), Q[t]!);
      // the innovation r = y_t - (m C + d), [..., 1, O], and its covariance S = C^T P C + R
      const r = tf.sub(ys[t]!, tf.add(tf.matMul(m, c), D[t]!));
      const cp = tf.matMul(c, p, true, false); // [..., O, H]
      const s = tf.add(tf.matMul(cp, c), R[t]!);
      // z = L^{-1} r^T and W = L^{-1} C^T P with S = L L^T (L = sqrt(S) when O = 1)
      let z: tf.Tensor;
      let w: tf.Tensor;
      let logDet: tf.Tensor;
      if (O === 1) {
        const l = tf.sqrt(s); // [..., 1, 1]
        z = tf.div(r, l);
        w = tf.div(cp, l);
        logDet = tf.log(l);
      } else {
        const l = cholesky(s);
        z = triangularSolve(l, matrixTranspose(r));
        w = triangularSolve(l, cp);
        logDet = tf.sum(tf.log(matrixDiag(l)), -1);
      }
      quads.push(tf.add(tf.mul(0.5, tf.sum(tf.square(z), [-2, -1])), tf.reshape(logDet, lead)));
      // update: m += z^T W, P -= W^T W
      m = tf.add(m, O === 1 ? tf.mul(z, w) : tf.matMul(z, w, true, false));
      p = tf.sub(p, tf.matMul(w, w, true, false));
      p = tf.mul(0.5, tf.add(p, matrixTranspose(p)));
    }
    const ll = tf.neg(
      tf.add(quads.length === 1 ? quads[0]! : tf.addN(quads), 0.5 * T * O * LOG_2PI),
    );
    return { ll, m: tf.squeeze(m, [-2]), p };
  }

  protected _logProb(value: tf.Tensor): tf.Tensor {
    return this.kalman(value).ll;
  }

  /**
   * The posterior of the hidden state at the last step given a sequence (Pyro's `filter`), a
   * `MultivariateNormal` with batch shape `broadcast(value batch, batchShape)` that can be the
   * `initialDist` of a model of what follows. The caller disposes it.
   * @param value a sequence `[..., T, O]`.
   * @throws ArgumentError naming `value` for a shape that does not fit.
   */
  filter(value: TensorInput): MultivariateNormal {
    const [m, p] = tf.tidy(() => {
      const k = this.kalman(this.checkValue(value));
      return [k.m, k.p];
    }) as [tf.Tensor, tf.Tensor];
    try {
      return new FilteredMvn(m, p);
    } catch (e) {
      m.dispose();
      throw e;
    } finally {
      p.dispose();
    }
  }

  /**
   * Reparameterized draws `[...shape, ...batch, T, O]`: `z_{-1} = mu_0 + L_0 eps`, then
   * `z_t = z_{t-1} A_t + b_t + L_{Q_t} eps_t`, `y_t = z_t C_t + d_t + L_{R_t} eps'_t`.
   */
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    if (this.duration === undefined) {
      throw new ArgumentError(
        'duration',
        `${this.name}: the sequence length is unknown (no time dim in the parameters); give ` +
          'the duration option to sample',
      );
    }
    const T = this.duration;
    const H = this.hiddenDim;
    const O = this.obsDim;
    const lead = [...shape, ...this.batch];
    const [s0, s1, s2] = deriveSeeds(seed, 3) as [number, number, number];
    const [A, B, Q, C, D, R] = this.steps(lead, T) as [
      tf.Tensor[],
      tf.Tensor[],
      tf.Tensor[],
      tf.Tensor[],
      tf.Tensor[],
      tf.Tensor[],
    ];
    const normal = (n: number, s: number, extra: number[]): tf.Tensor =>
      tf.randomNormal([...lead, ...extra, n, 1], 0, 1, 'float32', s);
    const l0 = cholesky(tf.broadcastTo(this.init.cov, [...lead, H, H]));
    let z = tf.add(
      tf.broadcastTo(this.init.loc, [...lead, H]),
      tf.squeeze(tf.matMul(l0, normal(H, s0, [])), [-1]),
    );
    const eW = tf.unstack(normal(H, s1, [T]), lead.length);
    const eV = tf.unstack(normal(O, s2, [T]), lead.length);
    const ys: tf.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const w = tf.squeeze(tf.matMul(cholesky(Q[t]!), eW[t]!), [-1]);
      z = tf.add(tf.squeeze(tf.matMul(tf.expandDims(z, -2), A[t]!), [-2]), tf.add(B[t]!, w));
      const v = tf.squeeze(tf.matMul(cholesky(R[t]!), eV[t]!), [-1]);
      ys.push(tf.add(tf.squeeze(tf.matMul(tf.expandDims(z, -2), C[t]!), [-2]), tf.add(D[t]!, v)));
    }
    return tf.stack(ys, lead.length);
  }
}

/** A `MultivariateNormal` that owns its mean (the filtered state of {@link GaussianHMM.filter}). */
class FilteredMvn extends MultivariateNormal {
  constructor(loc: tf.Tensor, cov: tf.Tensor) {
    super(loc, { covarianceMatrix: cov }, { validateArgs: false, name: 'MultivariateNormal' });
    this.own(loc);
  }
}
