/**
 * The handler of one {@link scan}: it runs the body's steps, keeps their sites from the handlers
 * outside, gives each step the slice `t` of what those handlers would give the stacked site,
 * and records each site once, stacked along a leading time dim (NumPyro's `scan_wrapper`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../../distributions/distribution.js';
import { ArgumentError } from '../../../utils/errors.js';
import { makeRng } from '../../../utils/seed.js';
import { BlockMessenger } from '../../handlers/block.js';
import { EnumMessenger } from '../../handlers/enum.js';
import { seedBelow } from '../../handlers/seed.js';
import { Messenger } from '../../messenger.js';
import { applyStack, HANDLER_STACK, makeMessage, type Message } from '../../runtime.js';
import { stackedMessage, type ScanSite } from './scan_stacked_site.js';
import { StackedDistribution } from './stacked_distribution.js';

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
