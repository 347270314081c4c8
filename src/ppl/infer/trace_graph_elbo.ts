/**
 * `TraceGraphELBO` (Pyro's `TraceGraph_ELBO`): the ELBO whose gradient for guide sites without a
 * reparameterization uses score-function (REINFORCE) terms with variance reduction:
 *
 * $$\nabla\mathcal L = \mathbb E_q\Big[\nabla_{\text{rep}}\big(\log p - \log q\big) +
 *   \sum_{s\ \text{non-rep}} \nabla\log q(z_s)\,\big(\mathrm{cost}_s - b_s\big)\Big]$$
 *
 * - **downstream costs**: `cost_s` counts only the terms `log p - log q` of sites at or after
 *   `s` in execution order (a site cannot depend on a later one; Pyro's dense graph);
 * - **Rao-Blackwellization by plates**: for a site inside plates, the terms sharing its plates
 *   keep their per-member values, so member `i`'s score is weighted by member `i`'s cost only;
 * - **baselines** only where a site asks for one, as Pyro's `infer={'baseline': {...}}`
 *   ({@link BaselineOptions}; a site without it gets `b_s = 0`, Pyro's default): the decaying
 *   average `useDecayingAvgBaseline` (decay `baselineBeta`, default 0.9) of the site's downstream
 *   cost, kept per element of the cost (the site's batch shape), starting at 0 and read before
 *   each update, `b_s ← \bar c_s`, `\bar c_s ← β \bar c_s + (1-β) cost_s`; a neural baseline
 *   `b_s = nnBaseline(nnBaselineInput)` or a user's `baselineValue` computed in the guide; these
 *   two are learned by adding `(\mathrm{cost}_s - b_s)^2` (cost held fixed) to the surrogate's
 *   gradient, not to its value (Pyro's `baseline_loss`). The option `defaultBaseline:
 *   'decayingAverage'` gives the average to every site without options (this library's default
 *   before it followed Pyro).
 */
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from '../../utils/tensor.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import type { Message } from '../runtime.js';
import { siteLogProb, type Trace } from '../trace.js';
import { ELBOEstimator, guideAndModelTraces, type Callable } from './elbo.js';
import { guideLogProbSum, plateReduce, scoreLogProb } from './guide_terms.js';

/** Options of {@link TraceGraphELBO}. */
export interface TraceGraphELBOOptions {
  /** Number of particles averaged per estimate. Default 1. */
  numParticles?: number;
  /**
   * Decay of the decaying-average baselines of sites that ask for one without their own
   * `baselineBeta`, in [0, 1). Default 0.9 (Pyro's).
   */
  baselineBeta?: number;
  /**
   * The baseline of a non-reparameterized site whose `infer` has no `baseline`: `'none'` (Pyro's
   * default, `b_s = 0`) or `'decayingAverage'` (the decaying average, as
   * `{baseline: {useDecayingAvgBaseline: true}}`; this library's default before it followed
   * Pyro). Default `'none'`.
   */
  defaultBaseline?: 'none' | 'decayingAverage';
}

/**
 * The state of one site's decaying-average baseline (Pyro's param
 * `__baseline_avg_downstream_cost_<site>`): `\bar c_s` over the shape of the site's downstream
 * cost (its batch shape), row-major.
 */
export interface DecayingAverage {
  /** The shape of the site's downstream cost. */
  readonly shape: readonly number[];
  /** `\bar c_s`, row-major, one value per element of the cost. */
  readonly values: readonly number[];
}

/**
 * A site's baseline options, Pyro's `infer={'baseline': {...}}` in camel case:
 * `{infer: {baseline: {nnBaseline: net, nnBaselineInput: x}}}`. The baseline subtracted from the
 * site's downstream cost is the sum of the decaying average (when on) and the learned one:
 *
 * $$b_s = \bar c_s + \big(\mathrm{nnBaseline}(x)\ \text{or}\ \mathrm{baselineValue}\big),\qquad
 *   \bar c_s \leftarrow \beta\,\bar c_s + (1-\beta)\,\mathrm{cost}_s$$

(element by element over the cost's shape, `\bar c_s = 0` at first; the average's old value is
the one subtracted, as Pyro's)
 *
 * and the learned part gets the gradient of `sum((stop(cost_s) - b_s)^2)` (with the average in
 * `b_s` when both are on, as Pyro's `baseline_loss`).
 */
export interface BaselineOptions {
  /**
   * Keep the decaying average of the site's downstream cost, element by element. Default false
   * (Pyro's); an options object with only `baselineBeta` keeps none either.
   */
  useDecayingAvgBaseline?: boolean;
  /** The average's decay `β` in [0, 1) for this site. Default: the ELBO's `baselineBeta`. */
  baselineBeta?: number;
  /**
   * A network (a function or an object with `call`, reading its weights by `param`) giving the
   * baseline from `nnBaselineInput` (held fixed: its gradient reaches only the network).
   */
  nnBaseline?: ((input: tf.Tensor) => tf.Tensor) | { call(input: tf.Tensor): tf.Tensor };
  /** The input of `nnBaseline`. */
  nnBaselineInput?: tf.Tensor;
  /**
   * A baseline computed by the user (in the guide), differentiable in its own parameters. As in
   * Pyro, it (like `nnBaseline`'s output) must have exactly the shape of the site's downstream
   * cost, the site's batch shape (`[]` for a global site, `[N]` in a plate of `N`); beside the
   * decaying average it may be any shape broadcasting to it. Another shape is an
   * `ArgumentError` naming the site and the expected shape (a single value used to be broadcast).
   */
  baselineValue?: tf.Tensor;
}

const BASELINE_KEYS = [
  'useDecayingAvgBaseline',
  'baselineBeta',
  'nnBaseline',
  'nnBaselineInput',
  'baselineValue',
] as const;

/**
 * Check and read a guide site's `infer.baseline`: `undefined` is the ELBO's default (`average`:
 * the decaying average, else none), `true` the decaying average, `false` none.
 */
function baselineOptions(s: Message, average: boolean): BaselineOptions | false {
  const b = s.infer.baseline;
  if (b === undefined) return average ? { useDecayingAvgBaseline: true } : false;
  if (b === true) return { useDecayingAvgBaseline: true };
  if (b === false) return false;
  const what = `infer.baseline of site '${s.name}'`;
  if (b === null || typeof b !== 'object') {
    throw new ArgumentError(what, `expected false or an options object, got ${String(b)}`);
  }
  checkOptionKeys(b as Record<string, unknown>, BASELINE_KEYS, what);
  const o = b as BaselineOptions;
  if (o.useDecayingAvgBaseline !== undefined && typeof o.useDecayingAvgBaseline !== 'boolean') {
    throw new ArgumentError(`${what}.useDecayingAvgBaseline`, 'expected a boolean');
  }
  if (o.baselineBeta !== undefined && !(o.baselineBeta >= 0 && o.baselineBeta < 1)) {
    throw new ArgumentError(
      `${what}.baselineBeta`,
      `expected a number in [0, 1), got ${String(o.baselineBeta)}`,
    );
  }
  const nn = o.nnBaseline;
  if (nn !== undefined) {
    const ok =
      typeof nn === 'function' ||
      (nn !== null && typeof nn === 'object' && typeof nn.call === 'function');
    if (!ok) throw new ArgumentError(`${what}.nnBaseline`, 'expected a function or a module');
    if (!(o.nnBaselineInput instanceof tf.Tensor)) {
      throw new ArgumentError(`${what}.nnBaselineInput`, 'expected a tensor with nnBaseline');
    }
    if (o.baselineValue !== undefined) {
      throw new ArgumentError(what, 'cannot use baselineValue and nnBaseline together');
    }
  } else if (o.nnBaselineInput !== undefined) {
    throw new ArgumentError(`${what}.nnBaselineInput`, 'given without nnBaseline');
  }
  if (o.baselineValue !== undefined && !(o.baselineValue instanceof tf.Tensor)) {
    throw new ArgumentError(`${what}.baselineValue`, 'expected a tensor');
  }
  return o;
}

/**
 * The learned baseline (`nnBaseline(nnBaselineInput)` or `baselineValue`) of site `s`, or null,
 * checked as Pyro's `_construct_baseline`: the whole baseline `b_s` (the decaying average, of the
 * cost's shape, when `withAverage`, plus the learned part, broadcast) must have exactly the shape
 * of the site's downstream cost, so a learned part alone must have the cost's shape (a global
 * site's cost is a scalar `[]`, a site in a plate of `N` has `[N]`), and beside the average any
 * shape that broadcasts to it (a single value `[]` included).
 * @throws ArgumentError naming `infer.baseline of site '<name>'` and the expected shape.
 */
function learnedBaseline(
  s: Message,
  o: BaselineOptions,
  costShape: number[],
  withAverage: boolean,
): tf.Tensor | null {
  let v: tf.Tensor | undefined = o.baselineValue;
  if (o.nnBaseline !== undefined) {
    const input = stopGradient(o.nnBaselineInput as tf.Tensor);
    const nn = o.nnBaseline;
    v = typeof nn === 'function' ? nn(input) : nn.call(input);
    if (!(v instanceof tf.Tensor)) {
      throw new ArgumentError(
        `infer.baseline of site '${s.name}'.nnBaseline`,
        'expected the network to return a tensor',
      );
    }
  }
  if (v === undefined) return null;
  const whole = broadcastShape(withAverage ? costShape : [], v.shape);
  if (whole === null || !sameShape(whole, costShape)) {
    const which = o.nnBaseline !== undefined ? 'nnBaseline output' : 'baselineValue';
    throw new ArgumentError(
      `infer.baseline of site '${s.name}'`,
      `expected the baseline to have the site's downstream cost's shape ` +
        `[${costShape.join(', ')}] (Pyro's rule` +
        (withAverage ? '; beside the decaying average, any shape broadcasting to it' : '') +
        `), got a ${which} of shape [${v.shape.join(', ')}]`,
    );
  }
  return v;
}

/** numpy's broadcast of two shapes, or null when they do not broadcast. */
function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The ELBO with Rao-Blackwellized, baselined score-function terms.
 *
 * @example
 * ```ts
 * // a discrete latent with a Bernoulli guide
 * const svi = new SVI(model, guide, tf.train.adam(0.05), new TraceGraphELBO());
 * ```
 */
export class TraceGraphELBO extends ELBOEstimator {
  readonly numParticles: number;
  readonly baselineBeta: number;
  /** The baseline of sites without `infer.baseline`. */
  readonly defaultBaseline: 'none' | 'decayingAverage';
  /** The decaying-average baselines `\bar c_s` by site name (sites that keep one). */
  readonly baselines = new Map<string, DecayingAverage>();
  /** In {@link TraceGraphELBO.loss}: the averages are read, not updated (Pyro's `loss`). */
  private valueOnly = false;
  constructor(options: TraceGraphELBOOptions = {}) {
    super();
    checkOptionKeys(options, ['numParticles', 'baselineBeta', 'defaultBaseline'], 'TraceGraphELBO');
    const n = options.numParticles ?? 1;
    if (!Number.isInteger(n) || n < 1) {
      throw new ArgumentError('numParticles', `expected an integer >= 1, got ${n}`);
    }
    const b = options.baselineBeta ?? 0.9;
    if (!(b >= 0 && b < 1))
      throw new ArgumentError('baselineBeta', `expected a number in [0, 1), got ${b}`);
    const d = options.defaultBaseline ?? 'none';
    if (d !== 'none' && d !== 'decayingAverage') {
      throw new ArgumentError(
        'defaultBaseline',
        `expected 'none' or 'decayingAverage', got ${String(d)}`,
      );
    }
    this.numParticles = n;
    this.baselineBeta = b;
    this.defaultBaseline = d;
  }

  /**
   * The old value of site `s`'s decaying average (0 at first) as a tensor, the average updated
   * to `β \bar c + (1-β) cost` element by element.
   */
  private decayingAverage(s: Message, cost: tf.Tensor, beta: number): tf.Tensor {
    const prev = this.baselines.get(s.name);
    if (
      prev !== undefined &&
      (prev.shape.length !== cost.rank || prev.shape.some((d, i) => d !== cost.shape[i]))
    ) {
      throw new ArgumentError(
        `infer.baseline of site '${s.name}'`,
        `the decaying-average baseline has shape [${prev.shape.join(', ')}] (the site's ` +
          `downstream cost at the first step), but the cost now has shape ` +
          `[${cost.shape.join(', ')}]: a site keeping the average must keep its batch shape ` +
          '(e.g. no varying subsample size)',
      );
    }
    if (this.valueOnly) {
      return prev === undefined
        ? tf.zeros(cost.shape)
        : tf.tensor(prev.values as number[], cost.shape);
    }
    const c = cost.dataSync();
    const old = prev?.values ?? new Array<number>(c.length).fill(0);
    const values = old.map((v, i) => beta * v + (1 - beta) * (c[i] as number));
    this.baselines.set(s.name, { shape: [...cost.shape], values });
    return tf.tensor(old as number[], cost.shape);
  }

  /** One particle: the ELBO plus the score-function surrogate (value 0, gradient only). */
  private particle(guideTrace: Trace, modelTrace: Trace): tf.Tensor {
    // the gradient of -log q(z_s) of a non-reparameterized site has mean zero: Pyro leaves it
    // out of the surrogate (its `entropy_term` is 0), the score term carries the site's gradient
    const elbo = tf.sub(
      modelTrace.logProbSum(),
      guideLogProbSum(guideTrace, 'TraceGraphELBO', true, true),
    );
    const guideSites = guideTrace.latentSites();
    const modelSites = modelTrace.sampleSites();
    let surrogate: tf.Tensor = tf.scalar(0);
    guideSites.forEach((s, gi) => {
      if (s.fn === null || s.fn.hasRsample) return;
      const opts = baselineOptions(s, this.defaultBaseline === 'decayingAverage');
      const lq = scoreLogProb(s); // unscaled, unmasked: the cost carries them (Pyro's score_function)
      const rank = lq.rank;
      let cost: tf.Tensor = tf.zeros(lq.shape);
      const mi = modelSites.findIndex((m) => m.name === s.name);
      for (const m of mi < 0 ? [] : modelSites.slice(mi)) {
        cost = tf.add(cost, plateReduce(siteLogProb(m), m, s, rank));
      }
      for (const g of guideSites.slice(gi)) {
        cost = tf.sub(cost, plateReduce(siteLogProb(g), g, s, rank));
      }
      cost = stopGradient(cost);
      let centred = cost;
      if (opts !== false) {
        const learned = learnedBaseline(s, opts, cost.shape, opts.useDecayingAvgBaseline === true);
        // Pyro's: b = (old average, when asked for) + (learned part, when given); the learned
        // part is trained on (cost - b)^2, whose value is taken out again (the loss reads -ELBO)
        let baseline: tf.Tensor | null =
          opts.useDecayingAvgBaseline === true
            ? this.decayingAverage(s, cost, opts.baselineBeta ?? this.baselineBeta)
            : null;
        if (learned !== null) {
          const b = baseline === null ? learned : tf.add(baseline, learned);
          const bl = tf.sum(tf.square(tf.sub(cost, b)));
          surrogate = tf.sub(surrogate, tf.sub(bl, stopGradient(bl)));
          baseline = stopGradient(b);
        }
        if (baseline !== null) centred = tf.sub(cost, baseline);
      }
      const term = tf.sum(tf.mul(lq, centred));
      surrogate = tf.add(surrogate, tf.sub(term, stopGradient(term)));
    });
    return tf.add(elbo, surrogate);
  }

  /**
   * `-ELBO` as a number, the decaying averages left as they are (Pyro's `TraceGraph_ELBO.loss`
   * evaluates the ELBO only; `differentiableLoss`, what `SVI.step` differentiates, updates them).
   */
  override loss<A extends unknown[]>(model: Callable<A>, guide: Callable<A>, ...args: A): number {
    this.valueOnly = true;
    try {
      return super.loss(model, guide, ...args);
    } finally {
      this.valueOnly = false;
    }
  }

  differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar {
    return this.particleAverage(this.numParticles, () => {
      const { guideTrace, modelTrace } = guideAndModelTraces(model, guide, args);
      return [this.particle(guideTrace, modelTrace)];
    });
  }
}
