/**
 * The effect-handler runtime of the probabilistic language (after Pyro's `poutine/runtime.py`
 * and NumPyro's `primitives.py`).
 *
 * A model is an ordinary synchronous function that calls the primitives {@link sample} and
 * {@link param}. Each call builds a typed {@link Message} and hands it to {@link applyStack}, which
 * lets the active handlers (the global {@link HANDLER_STACK}, innermost last) rewrite it, computes
 * a default value when no handler supplied one, and then lets the handlers record the final
 * message, innermost first on the way in and outermost last on the way out.
 *
 * Model execution must stay synchronous: the stack is global, so an `await` inside a model would
 * let unrelated code run under the model's handlers.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../distributions/distribution.js';
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import { Delta } from '../distributions/delta.js';
import type { Constraint } from './constraints.js';
import { defaultProcessMessage } from './default_process.js';
import { broadcastShape, obsMaskTensor, observedTensor } from './observed_value.js';
import { isValidationEnabled, validateSampleValue } from './site_validation.js';

/**
 * A conditionally independent frame pushed by a `plate` (Pyro's `CondIndepStackFrame`): its name,
 * full size, batch size and the (negative) batch dimension it occupies.
 */
export interface PlateFrame {
  name: string;
  /** Full size of the plate (e.g. the number of data points). */
  size: number;
  /** Number of indices actually visited (the minibatch size). */
  subsampleSize: number;
  /** The batch dimension of the plate, counted from the right: `-1` is the rightmost. */
  dim: number;
}

/** The kinds of effectful sites. */
export type SiteType = 'sample' | 'param' | 'subsample';

/** Initial value of a parameter: a tensor/array, or a function called once to make it. */
export type ParamInit = tf.Tensor | tf.TensorLike | (() => tf.Tensor);

/**
 * One effectful call, passed through the handler stack. Handlers mutate it in place; `trace`
 * records a shallow copy in its post-processing hook so it sees the final value.
 */
export interface Message {
  type: SiteType;
  /** Site name, unique within one execution of a model. */
  name: string;
  /** The distribution of a `sample` site (null for `param` and `subsample` sites). */
  fn: Distribution | null;
  /** The site's value: set by a handler (`replay`, `condition`, ...) or by the default rule. */
  value: tf.Tensor | null;
  /** True for observed sample sites (`obs` given or set by `condition`). */
  isObserved: boolean;
  /** Multiplier of the site's log-probability (plates and `scale` multiply into it). */
  scale: number;
  /**
   * Elementwise multiplier of a sample site's log-probability (a tensor given to `scale`, e.g.
   * per-datum weights), broadcast against its batch shape; `null` for none.
   */
  scaleTensor: tf.Tensor | null;
  /** Boolean mask on the site's log-probability; `null` means no mask. */
  mask: tf.Tensor | boolean | null;
  /** Plates enclosing the site, outermost first. */
  cond: PlateFrame[];
  /** Seed for the default sampler (set by the `seed` handler). */
  seed: number | undefined;
  /** Stop the way in: handlers below this one do not see the message (used by `block`). */
  stop: boolean;
  /** A handler has finished the message; the default rule does nothing. */
  done: boolean;
  /** For `param` sites: the initial value and constraint. */
  init: ParamInit | undefined;
  constraint: Constraint | undefined;
  /** For `subsample` sites: the full size and the requested subsample size. */
  size: number;
  subsampleSize: number;
  /**
   * For `param` sites: the number of rightmost event dims (Pyro's `event_dim`); with it, each
   * enclosing subsampled plate slices the param's value along its dim (see {@link param}).
   */
  eventDim?: number;
  /** Free-form annotations for inference algorithms (e.g. `{enumerate: ...}`), as Pyro's `infer`. */
  infer: Record<string, unknown>;
  /**
   * Called with the message once every handler has post-processed it (Pyro's `continuation`):
   * how `escape` leaves the run at a site, by throwing from here.
   */
  continuation?: (msg: Message) => void;
}

/** What a handler overrides: both hooks do nothing by default. */
export interface Handler {
  processMessage(msg: Message): void;
  postprocessMessage(msg: Message): void;
}

/** The global handler stack, innermost handler last. @internal */
export const HANDLER_STACK: Handler[] = [];

/** Make a message with the defaults filled in. @internal */
export function makeMessage(fields: Partial<Message> & Pick<Message, 'type' | 'name'>): Message {
  return {
    fn: null,
    value: null,
    isObserved: false,
    scale: 1,
    scaleTensor: null,
    mask: null,
    cond: [],
    seed: undefined,
    stop: false,
    done: false,
    init: undefined,
    constraint: undefined,
    size: 0,
    subsampleSize: 0,
    infer: {},
    ...fields,
  };
}

/**
 * Run a message through the stack: `processMessage` from the innermost handler outwards (until
 * one sets `stop`), then the default rule, then `postprocessMessage` from the handler where the
 * message stopped back inwards, then the message's `continuation`, if any.
 *
 * @internal (an implementation detail of the handlers; use the handler functions)
 */
export function applyStack(msg: Message): Message {
  let pointer = 0;
  for (let i = HANDLER_STACK.length - 1; i >= 0; i--) {
    pointer = i;
    (HANDLER_STACK[i] as Handler).processMessage(msg);
    if (msg.stop) break;
  }
  const preset = msg.type === 'sample' && msg.value !== null;
  defaultProcessMessage(msg);
  if (preset && isValidationEnabled()) validateSampleValue(msg);
  for (let i = pointer; i < HANDLER_STACK.length; i++) {
    (HANDLER_STACK[i] as Handler).postprocessMessage(msg);
  }
  msg.continuation?.(msg);
  return msg;
}

/** Options of {@link sample}. */
export interface SampleOptions {
  /** Observed value: the site is conditioned on it and contributes `log p(obs)`. */
  obs?: tf.Tensor | tf.TensorLike | null;
  /**
   * Which entries of `obs` are observed (Pyro's `obs_mask`): a bool tensor (or a rectangular
   * nested array of booleans) broadcastable with the site's batch shape, `broadcast(batch shape
   * of the distribution, batch part of obs)`, with no more dims than the batch part of `obs`;
   * `false` marks a missing entry, whose placeholder in `obs` must still lie in the support.
   * Numbers, ragged arrays and other shapes are refused naming the site and the expected shape.
   * See {@link sample}.
   */
  obsMask?: tf.Tensor | tf.TensorLike | null;
  /** Annotations for inference algorithms. */
  infer?: Record<string, unknown>;
}

const SAMPLE_OPTIONS = ['obs', 'obsMask', 'infer'] as const;

/**
 * Pyro's `_masked_observe`: the observed entries are scored at `obs` by the site
 * `${name}_observed` (masked by `m`), the missing ones are the latent site `${name}_unobserved`
 * (masked by `!m`) that guides, autoguides and MCMC infer, and `name` records
 * `where(m, obs, unobserved)` as a deterministic site:
 *
 * $$\log p = \sum_i m_i \log p(\text{obs}_i) + \sum_i (1 - m_i) \log p(u_i)$$
 */
function maskedObserve(
  name: string,
  dist: Distribution,
  obs: tf.Tensor,
  m: tf.Tensor,
  infer: Record<string, unknown>,
): tf.Tensor {
  const eventShape = dist.eventShape;
  const observed = applyStack(
    makeMessage({
      type: 'sample',
      name: `${name}_observed`,
      fn: dist,
      value: obs,
      isObserved: true,
      mask: m,
      infer: { ...infer },
    }),
  ).value as tf.Tensor;
  const unobserved = applyStack(
    makeMessage({
      type: 'sample',
      name: `${name}_unobserved`,
      fn: dist,
      mask: tf.logicalNot(m),
      infer: { ...infer },
    }),
  ).value as tf.Tensor;
  const cond = tf.reshape(m, [...m.shape, ...eventShape.map(() => 1)]);
  const shape = [observed.shape, unobserved.shape].reduce(broadcastShape, cond.shape);
  // one promoted dtype, as torch.where (tfjs's where read int32 labels' bits as float32)
  const dtype = tf.upcastType(observed.dtype, unobserved.dtype);
  const value = tf.where(
    tf.broadcastTo(cond, shape),
    tf.broadcastTo(tf.cast(observed, dtype), shape),
    tf.broadcastTo(tf.cast(unobserved, dtype), shape),
  );
  return applyStack(
    makeMessage({
      type: 'sample',
      name,
      fn: new Delta(value, eventShape.length),
      value,
      isObserved: true,
      // a deterministic site, as `deterministic` makes (Pyro's and NumPyro's `_masked_observe`
      // return `deterministic(name, value)`): not scored, not a likelihood
      mask: false,
      infer: { deterministic: true },
    }),
  ).value as tf.Tensor;
}

/**
 * Declare a random variable `name ~ dist` (Pyro's `pyro.sample`).
 *
 * Outside any handler it just draws a value (or returns `obs`). Under handlers the value may be
 * replayed, conditioned or substituted, and `trace` records the site with its distribution, so
 * that inference can compute `log p(value)`.
 *
 * @param name site name, unique within one run of the model.
 * @param dist the site's distribution.
 * With `obsMask` (Pyro's `obs_mask`), only the entries of `obs` where the mask is true are
 * observed, at the site `${name}_observed`; the others form the latent site `${name}_unobserved`
 * (guides, autoguides and MCMC infer it; its log-density counts only the missing entries), and
 * `name` records the combined value `where(obsMask, obs, unobserved)`, which is returned:
 *
 * $$\log p = \sum_i m_i \log p(\text{obs}_i) + \sum_i (1 - m_i) \log p(u_i)$$
 *
 * Unknown option keys (a typo such as `observed`, or Pyro's `obs_mask`) are an error.
 *
 * @param options `obs` to observe a value, `obsMask` to observe part of it, `infer` annotations.
 * @returns the site's value.
 * @example
 * ```ts
 * const model = (y: tf.Tensor) => {
 *   const mu = sample('mu', new Normal(0, 10));
 *   sample('y', new Normal(mu, 1), { obs: y });
 * };
 * ```
 */
export function sample(name: string, dist: Distribution, options: SampleOptions = {}): tf.Tensor {
  checkName(name);
  if (dist === null || typeof dist !== 'object' || typeof dist.logProb !== 'function') {
    throw new ArgumentError('dist', `sample('${name}'): expected a Distribution`);
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `sample('${name}'): expected an object`);
  }
  checkOptionKeys(options, SAMPLE_OPTIONS, `sample('${name}')`);
  const obs = options.obs ?? null;
  const maskIn = options.obsMask ?? null;
  if (maskIn !== null && obs === null) {
    throw new ArgumentError('obsMask', `sample('${name}'): obsMask needs obs`);
  }
  const obsT = obs === null ? null : observedTensor(name, obs);
  if (maskIn !== null && obsT !== null) {
    let m: tf.Tensor;
    try {
      m = obsMaskTensor(name, maskIn, dist, obsT);
    } catch (e) {
      if (obsT !== obs) obsT.dispose();
      throw e;
    }
    const own = m !== maskIn;
    if (HANDLER_STACK.length === 0) {
      // outside any handler: only the combined value outlives the call
      try {
        return tf.tidy(() => maskedObserve(name, dist, obsT, m, options.infer ?? {}));
      } finally {
        if (own) m.dispose();
      }
    }
    try {
      return maskedObserve(name, dist, obsT, m, options.infer ?? {});
    } catch (e) {
      if (own) m.dispose();
      throw e;
    }
  }
  if (HANDLER_STACK.length === 0) {
    if (obsT !== null) return obsT;
    return dist.hasRsample ? dist.rsample() : dist.sample();
  }
  const msg = makeMessage({
    type: 'sample',
    name,
    fn: dist,
    value: obsT,
    isObserved: obsT !== null,
    infer: { ...(options.infer ?? {}) },
  });
  return applyStack(msg).value as tf.Tensor;
}

/** Options of {@link param}. */
export interface ParamOptions {
  /** Support of the parameter; the store keeps an unconstrained variable. Default `real`. */
  constraint?: Constraint;
  /**
   * Number of rightmost event dims of the parameter (Pyro's `event_dim`), an integer >= 0.
   * Given, the parameter has batch semantics: inside `plate(name, N, {subsample...})` its dim
   * `plateDim - eventDim` (size `N`, or 1 to broadcast) is sliced by the plate's subsample
   * indices, so local parameters follow the minibatch. Omitted (default), it is never sliced.
   */
  eventDim?: number;
}

const PARAM_OPTIONS = ['constraint', 'eventDim'] as const;

/**
 * Declare a learnable parameter (Pyro's `pyro.param`), stored in the global parameter store.
 *
 * The store keeps an unconstrained `tf.Variable` `u` and returns `constraint.forward(u)`, so an
 * optimizer may move `u` freely: e.g. `positive` gives `softplus(u) > 0`.
 *
 * @param name parameter name (global).
 * @param init initial (constrained) value, used only on first use; a function is called lazily.
 * With `eventDim` (Pyro's `event_dim`), a parameter read inside subsampled plates is the slice of
 * the stored value at the plates' subsample indices `I` (Pyro's `SubsampleMessenger`): for a
 * plate at dim `d` and a value `θ` of rank `r`, along axis `a = r + d - eventDim`,
 *
 * $$\theta_{\text{returned}} = \operatorname{gather}(\theta, I, a), \qquad
 * \partial L / \partial \theta_j = 0 \text{ for } j \notin I,$$
 *
 * when that axis exists and has the plate's full size (size 1 broadcasts and is kept; another
 * size is an `ArgumentError` naming the param). The store keeps the full parameter.
 *
 * @param options `constraint` (default `real`), `eventDim` (default: none, never sliced).
 *   Unknown keys (a typo, or Pyro's `event_dim`) are an `ArgumentError`.
 * @returns the constrained value (differentiable in the variable).
 * @example
 * ```ts
 * const loc = param('q_loc', 0);
 * const scale = param('q_scale', 1, { constraint: positive });
 * sample('mu', new Normal(loc, scale));
 * // one local parameter per data point; a minibatch of 32 reads 32 of them
 * plate('data', 1000, { subsampleSize: 32 }, () => {
 *   const zLoc = param('z_loc', () => tf.zeros([1000]), { eventDim: 0 }); // shape [32]
 *   sample('z', new Normal(zLoc, 1));
 * });
 * ```
 */
export function param(name: string, init?: ParamInit, options: ParamOptions = {}): tf.Tensor {
  checkName(name);
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `param('${name}'): expected an object`);
  }
  checkOptionKeys(options, PARAM_OPTIONS, `param('${name}')`);
  const ed = options.eventDim;
  if (ed !== undefined && (!Number.isInteger(ed) || ed < 0)) {
    throw new ArgumentError(
      'eventDim',
      `param('${name}'): expected an integer >= 0, got ${String(ed)}`,
    );
  }
  const msg = makeMessage({
    type: 'param',
    name,
    init,
    constraint: options.constraint,
    ...(ed === undefined ? {} : { eventDim: ed }),
  });
  if (HANDLER_STACK.length === 0) {
    defaultProcessMessage(msg);
    return msg.value as tf.Tensor;
  }
  return applyStack(msg).value as tf.Tensor;
}

/** Subsample indices of a plate as an effectful site (so `trace`/`replay`/`seed` see them). */
export function subsample(name: string, size: number, subsampleSize: number): tf.Tensor {
  const msg = makeMessage({ type: 'subsample', name, size, subsampleSize });
  if (HANDLER_STACK.length === 0) {
    defaultProcessMessage(msg);
    return msg.value as tf.Tensor;
  }
  return applyStack(msg).value as tf.Tensor;
}

function checkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ArgumentError('name', `expected a non-empty string, got ${String(name)}`);
  }
}
