/**
 * The handler of one {@link scan}: it runs the body's steps, keeps their sites from the handlers
 * outside, gives each step the slice `t` of what those handlers would give the stacked site,
 * and records each site once, stacked along a leading time dim (NumPyro's `scan_wrapper`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../../distributions/distribution.js';
import { ArgumentError } from '../../../utils/errors.js';
import { makeRng } from '../../../utils/seed.js';
import { broadcastShape } from '../../observed_value.js';
import { BlockMessenger } from '../../handlers/block.js';
import { EnumMessenger } from '../../handlers/enum.js';
import { seedBelow } from '../../handlers/seed.js';
import { Messenger } from '../../messenger.js';
import { applyStack, HANDLER_STACK, makeMessage, type Message } from '../../runtime.js';
import { StackedDistribution } from './stacked_distribution.js';

/** What one scanned site collects: its steps and what the outer handlers gave it. */
interface ScanSite {
  name: string;
  /** The final message of each step, by time index. */
  steps: (Message | undefined)[];
  /** The outer handlers' value sliced per time index (`L <= T` of them), or null. */
  slices: tf.Tensor[] | null;
  /** The outer handlers' value when it covers all `T` steps (the stacked value as given). */
  full: tf.Tensor | null;
  /** The outer handlers' value when it has a step's shape (given to every step), or null. */
  every: tf.Tensor | null;
  /** Whether the outer handlers observed the site (`condition`). */
  observed: boolean;
  /** The seeds of the steps' draws, from the seed the outer handlers gave the site. */
  rng: (() => number) | null;
  /** Index of the outermost handler the stand-in reached (where a `block` stopped it, or 0). */
  reached: number;
  /** `uncondition` outside: the steps' own observations are dropped and kept here. */
  uncond: boolean;
  obs: (tf.Tensor | null)[];
  /** An outer handler stopped the steps (`intervene`'s `name__CF`): not stacked, not emitted. */
  hidden: boolean;
}

/**
 * A handler outside a scan that also wants to see each step's final message (the stacked site is
 * all it sees otherwise): e.g. provenance tracking, whose sources must be the values the steps
 * used. Called innermost-first, as `postprocessMessage`, for the handlers the site reached.
 */
export interface ScanStepObserver {
  postprocessScanStep(msg: Message): void;
}

/**
 * A handler outside a scan that rewrites each step's site itself, as it would the site of a
 * hand-written loop (NumPyro applies the outer handlers inside the scanned body): `reparam`
 * (auxiliary sites made by the step, stacked by the scan) and `intervene` (the value `[T, ...]`
 * of the stacked site sliced per step by `stepValue`). Called innermost-first before the step's
 * site is collected, unless a `block` between the two hides it; such a handler must leave the
 * stacked site (`infer._scanStacked`) and the scan's stand-in (`infer._scanProbe`) alone.
 */
export interface ScanStepRewriter {
  processScanStep(msg: Message, stepValue: (v: tf.Tensor) => tf.Tensor): void;
}

function isStepRewriter(h: unknown): h is ScanStepRewriter {
  return typeof (h as Partial<ScanStepRewriter>).processScanStep === 'function';
}

function isStepObserver(h: unknown): h is ScanStepObserver {
  return typeof (h as Partial<ScanStepObserver>).postprocessScanStep === 'function';
}

/** The rank of a draw of `fn` (batch + event). */
function drawRank(fn: Distribution): number {
  return fn.batchShape.length + fn.eventShape.length;
}

/** Handler of one scan. @internal (use {@link scan}) */
export class ScanMessenger extends Messenger {
  /** Time index of the step running now. */
  slot = 0;
  /** Number of steps started. */
  started = 0;
  private readonly sites = new Map<string, ScanSite>();
  private readonly params = new Map<string, tf.Tensor>();

  constructor(readonly length: number) {
    super();
  }

  override processMessage(msg: Message): void {
    if (msg.type === 'param') {
      const v = this.params.get(msg.name);
      if (v !== undefined) {
        // one param site per run: later steps read the first step's value
        msg.value = v;
        msg.stop = true;
      }
      return;
    }
    if (msg.type !== 'sample') return;
    if (msg.infer.enumerate === 'parallel' && this.enumerated()) throw enumerateError(msg.name);
    const hidden = this.rewriteStep(msg);
    msg.stop = true; // the handlers outside see the stacked site only
    let site = this.sites.get(msg.name);
    if (site === undefined) {
      if (this.started > 1) {
        throw new ArgumentError(
          msg.name,
          `scan: sample site '${msg.name}' first appears at step ${this.started - 1}; every ` +
            'step of the body must make the same sample sites',
        );
      }
      site = this.probe(msg, hidden);
      this.sites.set(msg.name, site);
    } else if (site.steps[this.slot] !== undefined) {
      throw new ArgumentError(
        msg.name,
        `scan: sample site '${msg.name}' appears twice in one step (site names must be unique)`,
      );
    }
    if (site.uncond) {
      site.obs[this.slot] = msg.value;
      msg.value = null;
      msg.isObserved = false;
    }
    const given = site.slices !== null ? site.slices[this.slot] : (site.every ?? undefined);
    if (given !== undefined) {
      msg.value = given;
      if (site.observed) msg.isObserved = true;
    }
    if (msg.value === null && msg.seed === undefined && site.rng !== null) {
      msg.seed = Math.floor(site.rng() * 2147483647);
    }
  }

  /**
   * Whether an `enumerate` handler runs outside the scan (`TraceEnumELBO`, `inferDiscrete`, the
   * enumerated MCMC potential): only then is a site marked `enumerate: 'parallel'` enumerated;
   * elsewhere (`trace`, `Predictive`, `TraceELBO`) it is drawn, as in Pyro and NumPyro.
   */
  private enumerated(): boolean {
    const at = HANDLER_STACK.lastIndexOf(this);
    return HANDLER_STACK.slice(0, at).some((h) => h instanceof EnumMessenger);
  }

  /**
   * The outer {@link ScanStepRewriter}s applied to a step's message, innermost first; true when
   * one stopped it (`intervene`'s `name__CF`: hidden from the handlers outside, so not stacked).
   */
  private rewriteStep(msg: Message): boolean {
    const at = HANDLER_STACK.lastIndexOf(this);
    for (let i = at - 1; i >= 0; i--) {
      const h = HANDLER_STACK[i];
      if (h instanceof BlockMessenger && h.hides(msg)) return false;
      if (isStepRewriter(h)) h.processScanStep(msg, (v) => this.stepValue(msg, v));
      if (msg.stop) return true;
    }
    return false;
  }

  /**
   * Step `slot`'s part of a value given to the stacked site: row `slot` of a value `[T, ...]`, or
   * the value itself when it has one step's shape (or broadcasts to it).
   */
  private stepValue(msg: Message, v: tf.Tensor): tf.Tensor {
    const fn = msg.fn as Distribution;
    const r = drawRank(fn);
    if (v.rank <= r) return v;
    if (v.rank === r + 1 && v.shape[0] === this.length) {
      return tf.reshape(tf.slice(v, this.slot, 1), v.shape.slice(1));
    }
    throw new ArgumentError(
      msg.name,
      `scan: the value of site '${msg.name}' given by a handler outside the scan has shape ` +
        `[${v.shape.join(',')}]; expected [${this.length}, ` +
        `${fn.batchShape.concat(fn.eventShape).join(', ')}] (one row per step) or one step's shape`,
    );
  }

  override postprocessMessage(msg: Message): void {
    if (msg.type === 'param') {
      if (!this.params.has(msg.name) && msg.value !== null) this.params.set(msg.name, msg.value);
      return;
    }
    if (msg.type !== 'sample') return;
    const site = this.sites.get(msg.name);
    if (site === undefined) return;
    const at = HANDLER_STACK.lastIndexOf(this);
    for (let i = site.reached; i < at; i++) {
      const h = HANDLER_STACK[i];
      if (isStepObserver(h)) h.postprocessScanStep(msg);
    }
    site.steps[this.slot] = { ...msg, cond: [...msg.cond], infer: { ...msg.infer } };
  }

  /**
   * Send a stand-in of the stacked site through the handlers outside the scan once, at its
   * first step (their `processMessage` only, as `applyStack` would): what they give it (a value
   * `[L, ...]` with `L <= T`, observation, a seed, `uncondition`) is given to the steps.
   */
  private probe(msg: Message, hidden: boolean): ScanSite {
    const at = HANDLER_STACK.lastIndexOf(this);
    const stepFn = msg.fn as Distribution;
    const pm = makeMessage({
      type: 'sample',
      name: msg.name,
      // a stand-in of the stacked site's distribution: [T, ...step batch], the step's support
      fn: new StackedDistribution(new Array<Distribution>(this.length).fill(stepFn)),
      isObserved: msg.isObserved,
      scale: msg.scale,
      scaleTensor: msg.scaleTensor,
      mask: msg.mask,
      cond: [...msg.cond],
      infer: { ...msg.infer, _scanProbe: true },
    });
    let reached = 0;
    for (let i = hidden ? -1 : at - 1; i >= 0; i--) {
      (HANDLER_STACK[i] as Messenger).processMessage(pm);
      if (pm.infer.enumerate === 'parallel' && this.enumerated()) throw enumerateError(msg.name);
      if (pm.stop) {
        reached = i;
        break;
      }
    }
    const T = this.length;
    const site: ScanSite = {
      name: msg.name,
      steps: new Array<Message | undefined>(T).fill(undefined),
      slices: null,
      full: null,
      every: null,
      observed: pm.isObserved && pm.value !== null,
      rng: pm.seed === undefined ? null : makeRng(pm.seed),
      reached,
      uncond: msg.isObserved && !pm.isObserved && pm.infer.wasObserved === true,
      obs: new Array<tf.Tensor | null>(T).fill(null),
      hidden,
    };
    const v = pm.value;
    if (
      site.rng === null &&
      v !== null &&
      v.rank === drawRank(stepFn) + 1 &&
      (v.shape[0] as number) < T
    ) {
      // the steps past a shorter value are drawn: from the seed stream outside, when there is one
      const sd = seedBelow(at);
      if (sd !== undefined) site.rng = makeRng(sd);
    }
    if (v !== null) {
      const fn = stepFn;
      const r = drawRank(fn);
      const stepShape = [...fn.batchShape, ...fn.eventShape];
      const fits = v.shape.slice(1).every((d, i) => d === 1 || d === stepShape[i]);
      if (v.rank === r + 1 && fits && (v.shape[0] as number) <= T && (v.shape[0] as number) >= 1) {
        site.slices = tf.unstack(v);
        if (v.shape[0] === T) site.full = v;
      } else if (v.rank === r) {
        site.every = v;
      } else {
        throw new ArgumentError(
          msg.name,
          `scan: the value of site '${msg.name}' given by a handler outside the scan has shape ` +
            `[${v.shape.join(',')}]; expected [L, ${fn.batchShape.concat(fn.eventShape).join(', ')}] ` +
            `with 1 <= L <= ${T} (the first L steps; the others are drawn), or one step's shape`,
        );
      }
    }
    return site;
  }

  /**
   * Record every site once, stacked over time (NumPyro's stacked trace sites): value
   * `[T, ...]`, distribution {@link StackedDistribution}, sent through the handlers outside the
   * scan (this handler popped). Call after the last step.
   */
  emitSites(): void {
    const T = this.length;
    for (const site of this.sites.values()) {
      const steps = site.steps.filter((s): s is Message => s !== undefined);
      if (steps.length !== T) {
        throw new ArgumentError(
          site.name,
          `scan: sample site '${site.name}' appears in ${steps.length} of the ${T} steps; every ` +
            'step of the body must make the same sample sites',
        );
      }
      if (!site.hidden) applyStack(stackedMessage(site, steps));
    }
  }
}

function enumerateError(name: string): ArgumentError {
  return new ArgumentError(
    name,
    `scan: sample site '${name}' is enumerated in parallel (infer.enumerate = 'parallel'); ` +
      "enumeration inside scan (NumPyro's parallel-in-time HMM) is not supported: sum the " +
      'chain out with DiscreteHMM, or use markov() with a loop',
  );
}

function shapeStr(t: tf.Tensor): string {
  return `[${t.shape.join(',')}]`;
}

/** The stacked message of one site from its `T` step messages. */
function stackedMessage(site: ScanSite, steps: Message[]): Message {
  const name = site.name;
  const first = steps[0] as Message;
  const values = steps.map((s) => s.value as tf.Tensor);
  const vShape = (values[0] as tf.Tensor).shape;
  values.forEach((v, t) => {
    if (v.rank !== vShape.length || v.shape.some((d, i) => d !== vShape[i])) {
      throw new ArgumentError(
        name,
        `scan: sample site '${name}' has a value of shape ${shapeStr(v)} at step ${t}, ` +
          `${shapeStr(values[0] as tf.Tensor)} at step 0 (the steps' values are stacked: one shape)`,
      );
    }
  });
  const observed = site.observed || first.isObserved;
  if (!site.observed && steps.some((s) => s.isObserved !== first.isObserved)) {
    throw new ArgumentError(
      name,
      `scan: sample site '${name}' is observed at some steps and latent at others; observe it ` +
        'at every step (use obsMask for missing values) or at none',
    );
  }
  const scale = first.scale;
  if (steps.some((s) => s.scale !== scale)) {
    throw new ArgumentError(
      name,
      `scan: sample site '${name}' has a different scale at different steps ` +
        `(${steps.map((s) => s.scale).join(', ')}); a scanned site has one scale`,
    );
  }
  let fn: StackedDistribution;
  try {
    // one step's batch: its distribution's, broadcast with its value's batch part (a value may
    // be larger than the batch, e.g. an observation row under a scalar distribution)
    const fns = steps.map((s) => s.fn as Distribution);
    const eventRank = (fns[0] as Distribution).eventShape.length;
    let batch = vShape.slice(0, Math.max(0, vShape.length - eventRank));
    for (const d of fns) batch = broadcastShape(batch, d.batchShape);
    fn = new StackedDistribution(fns, batch);
  } catch (e) {
    if (e instanceof ArgumentError) throw new ArgumentError(name, `scan: ${e.message}`);
    throw e;
  }
  const lpShape = fn.batchShape.slice(1);
  // NumPyro's _promote_scanned_value_shapes: a step value of lower batch rank than the step's
  // batch (e.g. a scalar observation scored by a distribution batched over an enumerated dim)
  // gets 1s after the time dim, so that the time dim stays left of the batch dims
  const pad = lpShape.length + fn.eventShape.length - vShape.length;
  const stacked = site.full ?? tf.stack(values);
  const value =
    pad > 0
      ? tf.reshape(stacked, [
          stacked.shape[0] as number,
          ...new Array<number>(pad).fill(1),
          ...vShape,
        ])
      : stacked;
  const infer: Record<string, unknown> = { ...first.infer, _scanStacked: true };
  if (site.uncond) {
    infer.wasObserved = true;
    infer.obs = site.obs.some((o) => o === null) ? null : tf.stack(site.obs as tf.Tensor[]);
  }
  return makeMessage({
    type: 'sample',
    name,
    fn,
    value,
    isObserved: observed,
    scale,
    scaleTensor: stackScaleTensors(steps, lpShape),
    mask: stackMasks(steps, lpShape),
    cond: [...first.cond],
    infer,
  });
}

/** Throw unless `t` (a step's mask or elementwise scale) broadcasts to the step batch `shape`. */
function checkFits(name: string, what: string, t: tf.Tensor, shape: number[]): void {
  const fits =
    t.rank <= shape.length &&
    t.shape.every((d, i) => d === 1 || d === shape[shape.length - t.rank + i]);
  if (!fits) {
    throw new ArgumentError(
      name,
      `sample site '${name}': its ${what} of shape ${shapeStr(t)} does not broadcast to the ` +
        `step's log-probability shape [${shape.join(',')}] (its batch shape)`,
    );
  }
}

/** The steps' elementwise scales stacked to `[T, ...B]`, or null when no step has one. */
function stackScaleTensors(steps: Message[], shape: number[]): tf.Tensor | null {
  if (steps.every((s) => s.scaleTensor === null || s.scaleTensor === undefined)) return null;
  return tf.stack(
    steps.map((s) =>
      s.scaleTensor === null || s.scaleTensor === undefined
        ? tf.ones(shape)
        : (checkFits(s.name, 'scale', s.scaleTensor, shape), tf.broadcastTo(s.scaleTensor, shape)),
    ),
  );
}

/** The steps' masks stacked to a bool `[T, ...B]` (null / a boolean when they all agree). */
function stackMasks(steps: Message[], shape: number[]): tf.Tensor | boolean | null {
  const m0 = steps[0]?.mask ?? null;
  const plain = (m: Message['mask']): boolean => m === null || m === true;
  if (steps.every((s) => plain(s.mask))) return m0;
  if (m0 === false && steps.every((s) => s.mask === false)) return false;
  return tf.stack(
    steps.map((s) => {
      const m = s.mask;
      if (m instanceof tf.Tensor) {
        checkFits(s.name, 'mask', m, shape);
        return tf.broadcastTo(tf.cast(m, 'bool'), shape);
      }
      return m === false ? tf.zeros(shape, 'bool') : tf.ones(shape, 'bool');
    }),
  );
}
