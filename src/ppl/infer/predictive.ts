/**
 * Posterior (or prior) predictive sampling (Pyro's `Predictive`): draw latents from the guide,
 * run the model replayed at them, and collect the values of chosen sites.
 */
import * as tf from '@tensorflow/tfjs';
import { replay } from '../handlers/replay.js';
import { ConditionMessenger } from '../handlers/condition.js';
import { wrapWith } from '../messenger.js';
import { trace } from '../handlers/trace.js';
import { plate } from '../handlers/plate.js';
import { substitute } from '../handlers/substitute.js';
import type { Trace } from '../trace.js';
import { ArgumentError } from '../../utils/errors.js';
import { asFn, type Callable } from './elbo.js';
import { inferDiscrete } from './infer_discrete.js';
import { checkPredictiveOptions, type PredictiveOptions } from './predictive_options.js';

export type { PredictiveOptions } from './predictive_options.js';

/** The name of the model's return value among the returned sites (Pyro's `_RETURN`). */
const RETURN = '_RETURN';
/** The plate that vectorizes the draws of a `parallel` Predictive (Pyro's name). */
const PARALLEL_PLATE = '_num_predictive_samples';

/**
 * Draws from `p(sites | data) ≈ ∫ p(sites | z) q(z) dz`.
 *
 * @example
 * ```ts
 * const pred = new Predictive(model, { guide, numSamples: 10, returnSites: ['logits'] });
 * const { logits } = pred.call(xTest); // shape [10, n, 10]
 * ```
 */
export class Predictive<A extends unknown[]> {
  /** Number of draws (with `batchNdims: 2`, chains times draws). */
  readonly numSamples: number;
  /** The leading dims of every returned tensor: `[numSamples]`, or `[chains, draws]`. */
  readonly batchShape: number[];
  constructor(
    readonly model: Callable<A>,
    readonly options: PredictiveOptions<A> = {},
  ) {
    const checked = checkPredictiveOptions(model, options);
    this.numSamples = checked.numSamples;
    this.batchShape = checked.batchShape;
  }

  /** Returns `{site: tensor of shape [numSamples, ...siteShape]}` (new tensors, the caller's). */
  call(...args: A): Record<string, tf.Tensor> {
    const params = this.options.params;
    const withParams = <F extends (...a: A) => unknown>(f: F): ((...a: A) => unknown) =>
      params === undefined ? f : substitute(f, params);
    const model = withParams(asFn(this.model));
    const guide =
      this.options.guide === undefined ? undefined : withParams(asFn(this.options.guide));
    const draws: Record<string, tf.Tensor[]> = {};
    try {
      this.collect(model, guide, args, draws);
    } catch (e) {
      for (const ts of Object.values(draws)) tf.dispose(ts);
      throw e;
    }
    const out: Record<string, tf.Tensor> = {};
    const grouped = this.batchShape.length > 1;
    for (const [n, ts] of Object.entries(draws)) {
      // a parallel run pushes one tensor of all the draws
      const st = this.options.parallel === true ? (ts[0] as tf.Tensor) : tf.stack(ts);
      if (st !== ts[0]) tf.dispose(ts);
      if (grouped) {
        out[n] = tf.reshape(st, [...this.batchShape, ...st.shape.slice(1)]);
        st.dispose();
      } else out[n] = st;
    }
    return out;
  }

  /** Run the draws, pushing each kept site value into `draws` (freed by the caller on a throw). */
  private collect(
    model: (...a: A) => unknown,
    guide: ((...a: A) => unknown) | undefined,
    args: A,
    draws: Record<string, tf.Tensor[]>,
  ): void {
    // with batchNdims 2, draw i = (chain, draw) in row-major order: the tensors flattened once
    const given = this.options.posteriorSamples;
    const flat =
      given === undefined || this.batchShape.length === 1
        ? given
        : Object.fromEntries(
            Object.entries(given).map(([k, t]) => [
              k,
              tf.reshape(t, [this.numSamples, ...t.shape.slice(this.batchShape.length)]),
            ]),
          );
    try {
      if (this.options.parallel === true) this.collectParallel(model, guide, args, draws, flat);
      else this.collectDraws(model, guide, args, draws, flat);
    } finally {
      if (flat !== given && flat !== undefined) tf.dispose(Object.values(flat));
    }
  }

  /**
   * The model of draw `i`: conditioned on the `i`-th posterior sample when there are samples,
   * else replaying the guide's trace `gt` when there is a guide, else the model itself.
   */
  private drawRun(
    model: (...a: A) => unknown,
    gt: Trace | undefined,
    ps: Record<string, tf.Tensor> | undefined,
    i: number,
  ): (...a: A) => unknown {
    if (ps !== undefined) {
      return wrapWith(
        model,
        () =>
          new ConditionMessenger(
            Object.fromEntries(Object.entries(ps).map(([k, t]) => [k, tf.gather(t, i)])),
            this.options.conditionDeterministic !== true,
          ),
      );
    }
    return gt === undefined ? model : replay(model, { trace: gt });
  }

  private collectDraws(
    model: (...a: A) => unknown,
    guide: ((...a: A) => unknown) | undefined,
    args: A,
    draws: Record<string, tf.Tensor[]>,
    ps: Record<string, tf.Tensor> | undefined,
  ): void {
    for (let i = 0; i < this.numSamples; i++) {
      tf.tidy(() => {
        const gt = guide === undefined ? undefined : trace(guide).getTraceUntidied(...args).trace;
        const run = this.drawRun(model, gt, ps, i);
        const idc = this.options.inferDiscrete;
        const final =
          idc === undefined || idc === false ? run : inferDiscrete(run, idc === true ? {} : idc);
        const { trace: mt, value: ret } =
          i === 0 ? this.firstRun(final, args) : trace(final).getTraceUntidied(...args);
        for (const n of this.siteNames(mt, gt, ps)) {
          (draws[n] ??= []).push(tf.keep(this.siteValue(n, mt, gt, ret).clone()));
        }
      });
    }
  }

  /** The sites to return: `returnSites`, or the predictive sites of the run. */
  private siteNames(
    mt: Trace,
    gt: Trace | undefined,
    ps: Record<string, tf.Tensor> | undefined,
  ): string[] {
    return (
      this.options.returnSites ??
      mt
        .sampleSites()
        .filter((s) => gt === undefined || !gt.get(s.name) || gt.get(s.name)?.isObserved)
        .filter(
          (s) =>
            ps === undefined ||
            !(s.name in ps) ||
            (s.infer['deterministic'] === true && this.options.conditionDeterministic !== true),
        )
        .map((s) => s.name)
    );
  }

  /** The value of site `n` in the model's or guide's trace; `_RETURN` the model's return value. */
  private siteValue(n: string, mt: Trace, gt: Trace | undefined, ret: unknown): tf.Tensor {
    const site = mt.get(n) ?? gt?.get(n);
    if (site !== undefined && site.value !== null) return site.value;
    if (n === RETURN) {
      if (ret instanceof tf.Tensor) return ret;
      throw new ArgumentError(
        'returnSites',
        `'_RETURN': the model returned ${ret === undefined ? 'nothing' : typeof ret}, not a tensor`,
      );
    }
    throw new ArgumentError('returnSites', `no site named '${n}' in the model or guide`);
  }

  /**
   * All draws in one run (Pyro's `_predictive(parallel=True)`): a serial run of draw 0 gives each
   * site's shape and the plate nesting `P`; then the model (and guide) run once inside a plate of
   * `numSamples` at dim `-(P + 1)`, each posterior sample `[S, ...batch, ...event]` reshaped to
   * `[S, 1 x (P - batch rank), ...batch, ...event]`, and each returned value reshaped (or
   * broadcast, for values that do not depend on the draw) to `[S, ...its shape in the serial run]`.
   */
  private collectParallel(
    model: (...a: A) => unknown,
    guide: ((...a: A) => unknown) | undefined,
    args: A,
    draws: Record<string, tf.Tensor[]>,
    ps: Record<string, tf.Tensor> | undefined,
  ): void {
    const S = this.numSamples;
    const skipDet = this.options.conditionDeterministic !== true;
    tf.tidy(() => {
      // the serial prototype: shapes and plate nesting
      const gt0 = guide === undefined ? undefined : trace(guide).getTraceUntidied(...args).trace;
      const first = this.drawRun(model, gt0, ps, 0);
      const proto = this.firstRun(first, args);
      let deepest = 0;
      for (const tr of [proto.trace, gt0]) {
        for (const site of tr?.sites() ?? []) {
          for (const f of site.cond) deepest = Math.max(deepest, -f.dim);
        }
      }
      const nest = this.options.maxPlateNesting ?? deepest;
      if (nest < deepest) {
        throw new ArgumentError(
          'maxPlateNesting',
          `expected at least ${deepest}, the deepest plate dim of the model, got ${nest}`,
        );
      }
      const dim = -(nest + 1);
      const vec =
        <F extends (...a: A) => unknown>(fn: F) =>
        (...a: A): unknown =>
          plate(PARALLEL_PLATE, S, { dim }, () => fn(...a));
      let run: (...a: A) => unknown;
      let gt: Trace | undefined;
      if (ps !== undefined) {
        const reshaped: Record<string, tf.Tensor> = {};
        for (const [k, t] of Object.entries(ps)) {
          const site = proto.trace.get(k);
          const shape = t.shape.slice(1);
          const eventRank = site?.fn?.eventShape.length ?? 0;
          const batchRank = Math.max(0, shape.length - eventRank);
          const pad = Math.max(0, nest - batchRank);
          reshaped[k] = tf.reshape(t, [S, ...new Array<number>(pad).fill(1), ...shape]);
        }
        run = wrapWith(vec(model), () => new ConditionMessenger(reshaped, skipDet));
      } else if (guide !== undefined) {
        gt = trace(vec(guide)).getTraceUntidied(...args).trace;
        run = replay(vec(model), { trace: gt });
      } else run = vec(model);
      const { trace: mt, value: ret } = trace(run).getTraceUntidied(...args);
      for (const n of this.siteNames(proto.trace, gt0, ps)) {
        const v = this.siteValue(n, mt, gt, ret);
        const one = this.siteValue(n, proto.trace, gt0, proto.value);
        const target = [S, ...one.shape];
        const out = v.size === S * one.size ? tf.reshape(v, target) : tf.broadcastTo(v, target);
        (draws[n] ??= []).push(tf.keep(out.clone()));
      }
    });
  }

  /**
   * The first conditioned run. When it fails on posterior samples that look grouped by chain
   * (every tensor `[C, D, ...]` with the same `C, D`) and `batchNdims` is 1, the error says so.
   */
  private firstRun(run: (...a: A) => unknown, args: A): { trace: Trace; value: unknown } {
    try {
      return trace(run).getTraceUntidied(...args);
    } catch (e) {
      const ps = this.options.posteriorSamples;
      const ts = ps === undefined ? [] : Object.values(ps);
      const [c, d] = ts[0]?.shape ?? [];
      const grouped =
        this.batchShape.length === 1 &&
        ts.length > 0 &&
        ts.every((t) => t.rank >= 2 && t.shape[0] === c && t.shape[1] === d);
      if (!grouped) throw e;
      throw new ArgumentError(
        'batchNdims',
        `Predictive: the model failed on the first of the posteriorSamples (${
          e instanceof Error ? e.message : String(e)
        }); they look grouped by chain ([${String(c)}, ${String(d)}, ...], as ` +
          'MCMC.getSamples({groupByChain: true}) gives): pass batchNdims: 2',
      );
    }
  }
}
