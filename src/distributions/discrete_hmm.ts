/**
 * The hidden Markov model with a discrete hidden state as one distribution over a whole sequence
 * of observations (Pyro's `DiscreteHMM`): the hidden chain is summed out by the forward algorithm.
 *
 * With `S` hidden states, `x_{-1} ~ Cat(softmax(initialLogits))` (the state before the first
 * observation, as in Pyro), and for `t = 0, ..., T-1`
 *
 * $$x_t \mid x_{t-1} \sim \operatorname{Cat}\big(\operatorname{softmax}(A_t[x_{t-1}, :])\big),
 *   \qquad y_t \mid x_t \sim p_t(\cdot \mid x_t),$$
 *
 * where `A_t` is `transitionLogits[..., t, :, :]` (rows: old state, columns: new state; one
 * matrix for all `t` when it has no time dim) and `p_t(. | s)` the entry `[..., t, s]` of
 * `observationDist`'s batch. The density of a sequence `y = (y_0, ..., y_{T-1})` is
 *
 * $$p(y) = \sum_{x_{-1}, \dots, x_{T-1}} \pi_{x_{-1}} \prod_{t=0}^{T-1}
 *   P_t(x_{t-1}, x_t)\, p_t(y_t \mid x_t)
 *   = \pi^\top M_0 M_1 \cdots M_{T-1} \mathbf 1,\qquad
 *   M_t(i, j) = P_t(i, j)\, p_t(y_t \mid j),$$
 *
 * computed in log space, where a matrix product is a log-sum-exp product
 * `(log A ⊙ log B)(i, k) = logsumexp_j (log A(i, j) + log B(j, k))`; the `T` products are
 * multiplied as a balanced tree of pairwise products (Särkkä and García-Fernández, 2019: one
 * batched product per level, depth `ceil(log2 T)`), so long sequences take `log2 T` steps of tfjs
 * ops and their gradient as many. Event shape `[T, ...observationDist.eventShape]`; batch shape
 * the broadcast of `initialLogits.shape[:-1]`, `transitionLogits.shape[:-3]` and
 * `observationDist.batchShape[:-2]`. When neither the transitions nor the observations have a
 * time dim (homogeneous), `T` is unknown (event shape `[1, ...]`, as Pyro's) and `logProb` scores
 * sequences of any length; give `duration` to `sample` such a model.
 *
 * Reference: S. Särkkä, Á. F. García-Fernández (2019), "Temporal Parallelization of Bayesian
 * Filters and Smoothers", arXiv:1905.13002.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { deriveSeeds, makeRng, nextSeed } from '../utils/seed.js';
import { checkShape, stopGradient, type TensorInput } from '../utils/tensor.js';
import { independent, type Constraint } from '../constraints/constraints.js';
import { Categorical } from './categorical.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import './expanded.js';
import './independent.js';

/** Options of {@link DiscreteHMM}. */
export interface DiscreteHMMOptions extends DistributionOptions {
  /**
   * The length `T` of the sequences (Pyro's `duration`): needed to `sample` a homogeneous model
   * (no time dim in the transitions nor in the observations); must equal the time dim of the
   * parameters when they have one (not 1).
   */
  duration?: number;
}

/** The smallest normal float32, the floor of {@link safeLog}'s gradient denominator. */
const TINY = 1.1754943508222875e-38;

/** `log x` whose gradient is `dy / max(x, tiny)` (Pyro's `safe_log`): finite where `x = 0`. */
const safeLog = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  save([x]);
  return {
    value: tf.log(x),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.div(dy, tf.maximum(saved[0]!, TINY)),
  };
});

/** A shift for log-sum-exp: the (gradient-free) max, 0 where it is `-Infinity`. */
function finiteShift(m: tf.Tensor): tf.Tensor {
  const s = stopGradient(m);
  return tf.where(tf.isFinite(s), s, tf.zerosLike(s));
}

/**
 * The log-space matrix product `log(exp(x) @ exp(y))` of `[..., S, S]` tensors, stable for large
 * and `-Infinity` entries (Pyro's `_logmatmulexp`).
 * @internal
 */
export function logMatMulExp(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const xs = finiteShift(tf.max(x, -1, true));
    const ys = finiteShift(tf.max(y, -2, true));
    const prod = tf.matMul(tf.exp(tf.sub(x, xs)), tf.exp(tf.sub(y, ys)));
    return tf.add(tf.add(safeLog(prod), xs), ys);
  });
}

/**
 * The log-space product `x_0 ⊙ x_1 ⊙ ... ⊙ x_{T-1}` of the `[..., T, S, S]` tensor `logits` along
 * its time dim -3, as a balanced tree of pairwise products (`ceil(log2 T)` batched products;
 * Pyro's `_sequential_logmatmulexp`), shape `[..., S, S]`.
 * @internal
 */
export function sequentialLogMatMulExp(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    let cur = logits;
    const r = logits.rank;
    const batch = logits.shape.slice(0, r - 3);
    const s = logits.shape.slice(r - 2);
    while ((cur.shape[r - 3] as number) > 1) {
      const time = cur.shape[r - 3] as number;
      const even = Math.floor(time / 2) * 2;
      const begin = cur.shape.map(() => 0);
      const size = [...batch, even, ...s];
      const pairs = tf.reshape(tf.slice(cur, begin, size), [...batch, even / 2, 2, ...s]);
      const [x, y] = tf.unstack(pairs, r - 2) as [tf.Tensor, tf.Tensor];
      let next = logMatMulExp(x, y);
      if (time > even) {
        const lastBegin = [...batch.map(() => 0), time - 1, 0, 0];
        next = tf.concat([next, tf.slice(cur, lastBegin, [...batch, 1, ...s])], r - 3);
      }
      cur = next;
    }
    return tf.squeeze(cur, [r - 3]);
  });
}

/** `log sum exp` over `axis` that stays `-Infinity` (not NaN) when every term is `-Infinity`. */
function safeLogSumExp(a: tf.Tensor, axis: number): tf.Tensor {
  const m = finiteShift(tf.max(a, axis, true));
  return tf.add(safeLog(tf.sum(tf.exp(tf.sub(a, m)), axis)), tf.squeeze(m, [axis]));
}

const shapeStr = (s: readonly number[]): string => `[${s.join(',')}]`;

/**
 * A hidden Markov model with `S` discrete hidden states and any observation family (Pyro's
 * `DiscreteHMM`), a distribution over sequences `[..., T, ...obsEvent]`.
 *
 * The three parameters stay the caller's when given as tensors (`observationDist` always does);
 * `dispose` frees the normalized logits this distribution made.
 *
 * @example
 * ```ts
 * // 2 states, Gaussian emissions, a sticky homogeneous chain: any length T
 * const hmm = new DiscreteHMM(
 *   [0, 0],                                  // initialLogits [S]
 *   tf.log(tf.tensor2d([[0.9, 0.1], [0.2, 0.8]])), // transitionLogits [S, S] (old, new)
 *   new Normal([-1, 1], 0.5),                // observationDist, batch [S]
 * );
 * hmm.logProb(tf.tensor1d([-1.1, -0.8, 1.2])); // log p(y), the hidden path summed out
 * hmm.filter(tf.tensor1d([-1.1, -0.8, 1.2]));  // Categorical p(x_{T-1} | y)
 * new DiscreteHMM(init, trans, obs, { duration: 50 }).sample([4]); // [4, 50]
 * ```
 */
export class DiscreteHMM extends Distribution {
  /** Normalized initial log-probabilities `log pi`, shape `[..., S]` (of the state `x_{-1}`). */
  readonly initialLogits: tf.Tensor;
  /** Normalized transition log-probabilities, shape `[..., (T,) S, S]`, rows the old state. */
  readonly transitionLogits: tf.Tensor;
  /** The emission family, batch shape `[..., (T,) S]`. */
  readonly observationDist: Distribution;
  /** The sequence length, when known (from the parameters' time dim or the `duration` option). */
  readonly duration: number | undefined;
  private readonly batch: number[];
  private readonly event: number[];

  /**
   * @param initialLogits logits of the state before the first step, shape `[..., S]` (any real
   *   or `-Infinity`; normalized here).
   * @param transitionLogits logits of `x_t | x_{t-1}`, shape `[..., S, S]` (homogeneous) or
   *   `[..., T, S, S]` (time-varying), rows the old state (normalized along the last dim).
   * @param observationDist `p(y_t | x_t)`: batch shape `[..., S]` or `[..., T, S]`, any event
   *   shape (e.g. `new Normal(locs, scales)`, `new Categorical({ logits })` with batch `[S]`,
   *   `new Bernoulli({ probs }).toEvent(1)` with batch `[S]` and event `[D]`).
   * @param options `duration` (Pyro's), validation flag and name.
   * @throws ArgumentError naming `initialLogits`, `transitionLogits`, `observationDist` or
   *   `duration` for a wrong rank, a state count `S` that differs between them, time or batch
   *   dims that do not broadcast, NaN or `+Infinity` logits, or a duration that is not a positive
   *   integer or differs from the parameters' time dim.
   */
  constructor(
    initialLogits: TensorInput,
    transitionLogits: TensorInput,
    observationDist: Distribution,
    options: DiscreteHMMOptions = {},
  ) {
    const { duration, ...base } = options;
    super(base);
    if (!(observationDist instanceof Distribution)) {
      throw new ArgumentError('observationDist', 'expected a Distribution');
    }
    if (
      duration !== undefined &&
      (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 1)
    ) {
      throw new ArgumentError('duration', `expected a positive integer, got ${String(duration)}`);
    }
    const init = this.param(initialLogits, 'initialLogits');
    const trans = this.param(transitionLogits, 'transitionLogits');
    if (init.rank < 1 || (init.shape.at(-1) ?? 0) < 1) {
      throw this.constructionError(
        'initialLogits',
        `expected shape [..., S] with S >= 1 states, got ${shapeStr(init.shape)}`,
      );
    }
    const S = init.shape.at(-1) as number;
    const ts = trans.shape;
    if (trans.rank < 2 || ts.at(-1) !== S || ts.at(-2) !== S) {
      throw this.constructionError(
        'transitionLogits',
        `expected shape [..., S, S] or [..., T, S, S] with S = ${S} (the states of ` +
          `initialLogits ${shapeStr(init.shape)}), got ${shapeStr(ts)}`,
      );
    }
    const ob = observationDist.batchShape;
    if (ob.length < 1 || ob.at(-1) !== S) {
      throw this.constructionError(
        'observationDist',
        `expected a batch shape [..., S] or [..., T, S] with S = ${S} (the states of ` +
          `initialLogits), got ${shapeStr(ob)} (${observationDist.name})`,
      );
    }
    const full = this.broadcastParams({
      initialLogits: [...init.shape.slice(0, -1), 1],
      transitionLogits: ts.slice(0, -2),
      observationDist: ob.slice(0, -1),
    });
    this.checkInRange(init, 'initialLogits', -Infinity, Number.MAX_VALUE);
    this.checkInRange(trans, 'transitionLogits', -Infinity, Number.MAX_VALUE);
    const time = full.at(-1) as number;
    if (duration !== undefined && time !== 1 && duration !== time) {
      throw this.constructionError(
        'duration',
        `expected the time dim of the parameters, ${time} (transitionLogits ` +
          `${shapeStr(ts)}, observationDist batch ${shapeStr(ob)}), got ${duration}`,
      );
    }
    this.duration = duration ?? (time !== 1 ? time : undefined);
    this.batch = full.slice(0, -1);
    this.event = [this.duration ?? 1, ...observationDist.eventShape];
    this.observationDist = observationDist;
    this.initialLogits = this.own(
      tf.tidy(() => tf.sub(init, safeLogSumExp(init, -1).expandDims(-1))),
    );
    this.transitionLogits = this.own(
      tf.tidy(() => tf.sub(trans, safeLogSumExp(trans, -1).expandDims(-1))),
    );
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [...this.event];
  }
  /** Number of hidden states `S`. */
  get numStates(): number {
    return this.initialLogits.shape.at(-1) as number;
  }
  /** A sequence of the observations' support (Pyro's `independent(observation support, 1)`). */
  override get support(): Constraint {
    return independent(this.observationDist.support, 1);
  }
  /**
   * With an unknown duration, a value's time dim is its own (any length >= 1).
   * @internal
   */
  override eventShapeFor(valueShape: readonly number[]): number[] {
    const e = this.event.length;
    const t = valueShape[valueShape.length - e];
    if (this.duration !== undefined || t === undefined || t < 1) return this.eventShape;
    return [t, ...this.event.slice(1)];
  }

  /** `log M_t(i, j) = log P_t(i, j) + log p_t(y_t | j)`, shape `[..., T, S, S]`. */
  private stepLogits(value: tf.Tensor): tf.Tensor {
    const obsEvent = this.observationDist.eventShape.length;
    const v = tf.expandDims(value, value.rank - obsEvent); // [..., T, 1, ...E]
    const obsLp = this.observationDist.logProb(v); // [..., T, S]
    return tf.add(this.transitionLogits, tf.expandDims(obsLp, -2));
  }

  protected _logProb(value: tf.Tensor): tf.Tensor {
    const prod = sequentialLogMatMulExp(this.stepLogits(value)); // [..., S, S]
    const lp = tf.add(this.initialLogits, safeLogSumExp(prod, -1));
    return safeLogSumExp(lp, -1);
  }

  /**
   * The posterior of the hidden state at the last step given a sequence (Pyro's `filter`):
   *
   * $$p(x_{T-1} = j \mid y) \propto \sum_i \pi_i\,(M_0 \cdots M_{T-1})(i, j),$$
   *
   * a `Categorical` with batch shape `broadcast(value batch, batchShape)`, whose `logits` can be
   * the `initialLogits` of a model of what follows. The caller disposes it.
   * @param value a sequence `[..., T, ...obsEvent]`.
   * @throws ArgumentError naming `value` for a shape that does not fit.
   */
  filter(value: TensorInput): Categorical {
    const logits = tf.tidy(() => {
      const v = this.checkValue(value);
      const prod = sequentialLogMatMulExp(this.stepLogits(v)); // [..., S, S]
      return safeLogSumExp(tf.add(tf.expandDims(this.initialLogits, -1), prod), -2);
    });
    try {
      return new Categorical({ logits }, { validateArgs: this.validateArgs });
    } finally {
      logits.dispose();
    }
  }

  /** The number of steps to draw; an `ArgumentError` naming `duration` when unknown. */
  private drawLength(): number {
    if (this.duration === undefined) {
      throw new ArgumentError(
        'duration',
        `${this.name}: the sequence length is unknown (no time dim in transitionLogits or ` +
          'observationDist); give the duration option to sample',
      );
    }
    return this.duration;
  }

  /**
   * Hidden paths `[...shape, ...batch, T]` (float32 state indices) drawn on the host from the
   * seeded stream: `x_{-1}` from the initial distribution, then each step from its row.
   */
  private drawStates(shape: number[], seed: number, T: number): tf.Tensor {
    const S = this.numStates;
    const batch = this.batch;
    const nb = batch.reduce((a, b) => a * b, 1);
    const n = shape.reduce((a, b) => a * b, 1);
    const [p0, pt] = tf.tidy(() => [
      tf.exp(tf.broadcastTo(this.initialLogits, [...batch, S])).dataSync(),
      tf.exp(tf.broadcastTo(this.transitionLogits, [...batch, T, S, S])).dataSync(),
    ]) as [Float32Array, Float32Array];
    const rng = makeRng(seed);
    const draw = (p: Float32Array, at: number): number => {
      let total = 0;
      for (let k = 0; k < S; k++) total += p[at + k] as number;
      let u = rng() * total;
      for (let k = 0; k < S - 1; k++) {
        u -= p[at + k] as number;
        if (u < 0) return k;
      }
      return S - 1;
    };
    const out = new Float32Array(n * nb * T);
    for (let i = 0; i < n; i++) {
      for (let b = 0; b < nb; b++) {
        let x = draw(p0, b * S);
        for (let t = 0; t < T; t++) {
          x = draw(pt, ((b * T + t) * S + x) * S);
          out[(i * nb + b) * T + t] = x;
        }
      }
    }
    return tf.tensor(out, [...shape, ...batch, T]);
  }

  /** Observations `[...shape, ...batch, T, ...E]` at the given states `[...shape, ...batch, T]`. */
  private emit(shape: number[], seed: number, states: tf.Tensor, T: number): tf.Tensor {
    const S = this.numStates;
    const e = this.observationDist.eventShape.length;
    const obs = this.observationDist.expand([...this.batch, T, S]);
    const y = obs.sample(shape, seed); // [...shape, ...batch, T, S, ...E]
    obs.dispose();
    const oneHot = tf.cast(tf.oneHot(tf.cast(states, 'int32'), S), 'bool');
    const mask = tf.reshape(oneHot, [...oneHot.shape, ...Array<number>(e).fill(1)]);
    const picked = tf.where(tf.broadcastTo(mask, y.shape), y, tf.zerosLike(y));
    return tf.sum(picked, states.rank);
  }

  /** Draws of the observations (Pyro's `sample`); the hidden path is drawn and dropped. */
  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const T = this.drawLength();
    const [sPath, sObs] = deriveSeeds(seed, 2) as [number, number];
    return this.emit(shape, sObs, this.drawStates(shape, sPath, T), T);
  }

  /**
   * Joint draws of the hidden path and the observations (the path that {@link sample} drops):
   * `states` `[...shape, ...batch, T]` (float32 state indices `x_0, ..., x_{T-1}`) and
   * `observations` `[...shape, ...batch, T, ...obsEvent]`; with the same `seed`, `observations`
   * equal `sample(shape, seed)`. The caller disposes both.
   * @param shape sample shape. Default `[]`.
   * @param seed per-call seed; otherwise the global stream of `setSeed`.
   * @throws ArgumentError naming `duration` when the length is unknown, `shape` for a bad shape.
   */
  sampleWithStates(
    shape: number[] = [],
    seed?: number,
  ): { states: tf.Tensor; observations: tf.Tensor } {
    const T = this.drawLength();
    const s = checkShape(shape, 'shape');
    const [sPath, sObs] = deriveSeeds(nextSeed(seed), 2) as [number, number];
    const states = tf.tidy(() => this.drawStates(s, sPath, T));
    try {
      const observations = tf.tidy(() => this.emit(s, sObs, states, T));
      return { states, observations };
    } catch (err) {
      states.dispose();
      throw err;
    }
  }
}
