/**
 * `inferDiscrete` (Pyro's `infer_discrete`): run a model with its discrete latent sites drawn from
 * their posterior given everything else the model sees (observed and conditioned sites):
 *
 * $$z_d \sim p(z_d \mid x, z_c)\ (\text{temperature } 1), \qquad
 *   z_d = \operatorname{arg\,max}_{z_d} p(z_d, x, z_c)\ (\text{temperature } 0).$$
 *
 * Every unobserved discrete site with a finite support is enumerated (marked or not, as `MCMC`
 * does). The sites are drawn one at a time by the chain rule, outer plates first: for the next
 * site `v` (smallest set of plates, then run order) the model runs under `enumerate` with the
 * sites drawn so far substituted; the factor graph is contracted down to `v`'s own plates
 * (`marginalFactor`: every other variable summed, or maximized at temperature 0, deeper plates
 * reduced), which gives `log p(v_i = k | drawn, x) + const` for each member `i` of `v`'s plates,
 * independent across members because every variable in an outer plate is already drawn. A model
 * with `n` discrete sites runs `n + 2` times: first one plain run, which finds the plate nesting
 * and fixes the values of the unobserved continuous sites (the model need not be conditioned on
 * them: as Pyro's replay of its enumerated trace, the discrete sites are drawn given the
 * continuous values the final run returns, not fresh draws of them in each run), then one run per
 * discrete site, and the final run. A subsampled plate draws its members once, in the plain run,
 * and every later run visits the same ones. The randomness of a call (the plain run's draws and
 * the discrete draws) comes from one stream started by the innermost enclosing `seed` handler
 * (so `seed(inferDiscrete(model), 0)` repeats its draws), else from the global stream (`setSeed`).
 */
import * as tf from '@tensorflow/tfjs';
import { Categorical } from '../../distributions/categorical.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { block } from '../handlers/block.js';
import { enumerateDiscrete, enumerateSupportTable } from '../handlers/enum.js';
import { handlerSeed, seed } from '../handlers/seed.js';
import { trace } from '../handlers/trace.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import { makeRng } from '../../utils/seed.js';
import type { Message } from '../runtime.js';
import type { Trace } from '../trace.js';
import { marginalFactor, type LabeledFactor } from './contract.js';
import { enumFactorGraph, type TraceEnumVar } from './enum_factors.js';

/** Options of {@link inferDiscrete}. */
export interface InferDiscreteOptions {
  /**
   * `1` (default): draw the discrete sites from their posterior; `0`: their joint most probable
   * values (max-product, Viterbi for a chain).
   */
  temperature?: 0 | 1;
  /** The model's plate nesting (Pyro's `first_available_dim = -(maxPlateNesting + 1)`). */
  maxPlateNesting?: number;
}

/**
 * Fixes the values of latent sample sites and of subsample sites (a plate's drawn indices) by
 * name, so that every run of one `inferDiscrete` call sees the same continuous values and visits
 * the same plate members.
 */
class FixedValuesMessenger extends Messenger {
  constructor(
    private readonly values: Record<string, tf.Tensor>,
    private readonly subsamples: Record<string, tf.Tensor>,
  ) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type === 'subsample') {
      const v = this.subsamples[msg.name];
      if (v !== undefined) msg.value = v;
    } else if (msg.type === 'sample' && !msg.isObserved) {
      const v = this.values[msg.name];
      if (v !== undefined) msg.value = v;
    }
  }
}

/** The values of a plain run that the later runs of one call reuse. */
interface PlainRun {
  /** The deepest plate dim met. */
  nest: number;
  /** The unobserved continuous sample sites' values. */
  continuous: Record<string, tf.Tensor>;
  /** The subsample sites' indices (each random subsample plate's members). */
  subsamples: Record<string, tf.Tensor>;
}

/**
 * One plain run of `fn` hidden from outer handlers, its draws seeded by `rngSeed`: its deepest
 * plate dim, the values of its unobserved continuous sample sites (the caller's) and the indices
 * of its subsampled plates, which every later run reuses, so that the discrete sites are drawn
 * given the continuous values and plate members the model returns with.
 */
function plainRun<A extends unknown[]>(fn: Fn<A, unknown>, args: A, rngSeed: number): PlainRun {
  let nest = 0;
  // returned from the tidy (not kept), so an enclosing tidy still owns them
  const [continuous, subsamples] = tf.tidy(() => {
    const cont: Record<string, tf.Tensor> = {};
    const subs: Record<string, tf.Tensor> = {};
    block(() => {
      const tr = trace(seed(fn, rngSeed)).getTraceUntidied(...args).trace;
      for (const s of tr.sites()) {
        for (const f of s.cond) nest = Math.max(nest, -f.dim);
        if (s.type === 'subsample' && s.value !== null) subs[s.name] = s.value.clone();
      }
      for (const s of tr.sampleSites()) {
        if (s.isObserved || s.fn === null || s.value === null || s.fn.support.isDiscrete) continue;
        cont[s.name] = s.value.clone();
      }
    })();
    return [cont, subs];
  });
  return { nest, continuous, subsamples };
}

/** The variable to draw next: fewest plates, then the earliest in the run. */
function nextVar(vars: TraceEnumVar[]): TraceEnumVar {
  let best = vars[0] as TraceEnumVar;
  for (const v of vars) if (v.ordinal.size < best.ordinal.size) best = v;
  return best;
}

/**
 * Logits `[...batchShape, K]` of a site from its kept factor (axes labelled by the site's own
 * variable and its plates).
 */
function siteLogits(phi: LabeledFactor, v: TraceEnumVar, site: Message, k: number): tf.Tensor {
  const fn = site.fn as NonNullable<Message['fn']>;
  const batch = fn.batchShape;
  const pos = (label: string): number => {
    if (label === v.label) return batch.length;
    const f = site.cond.find((c) => `p:${c.name}` === label);
    if (f === undefined || batch.length + f.dim < 0) {
      throw new ArgumentError(
        site.name,
        `inferDiscrete: site '${site.name}' (batch shape [${batch.join(',')}]) holds ${label}`,
      );
    }
    return batch.length + f.dim;
  };
  const order = phi.dims.map((d, i) => ({ i, at: pos(d) })).sort((a, b) => a.at - b.at);
  const perm = order.map((o) => o.i);
  const moved = perm.every((p, i) => p === i) ? phi.t : tf.transpose(phi.t, perm);
  const shape = [...batch.map(() => 1), 1];
  order.forEach((o) => (shape[o.at] = phi.t.shape[o.i] as number));
  return tf.broadcastTo(tf.reshape(moved, shape), [...batch, k]);
}

/** Draw (or maximize) the values of the enumerated site `v` from its kept factor. */
function drawSite(
  phi: LabeledFactor,
  v: TraceEnumVar,
  site: Message,
  temperature: 0 | 1,
  nest: number,
  rngSeed: number,
): tf.Tensor {
  const fn = site.fn as NonNullable<Message['fn']>;
  const table = enumerateSupportTable(fn, site.name); // [K, ...eventShape]
  const batch = fn.batchShape;
  if (batch.length > nest && batch.slice(0, batch.length - nest).some((d) => d !== 1)) {
    throw new ArgumentError(
      site.name,
      `inferDiscrete: site '${site.name}' has the batch shape [${batch.join(',')}] with dims ` +
        `left of the ${nest} plate dims: its distribution depends on a discrete site not drawn ` +
        'before it',
    );
  }
  const logits = siteLogits(phi, v, site, table.shape[0] as number);
  const idx =
    temperature === 0
      ? tf.argMax(logits, -1)
      : tf.cast(new Categorical({ logits }).sample([], rngSeed), 'int32');
  return tf.gather(table, idx); // [...batchShape, ...eventShape]
}

/**
 * The model `fn` with its discrete latent sites drawn from their posterior given the rest of the
 * run (temperature 1) or set to their joint most probable values (temperature 0); see the module
 * docs. The intermediate runs are hidden from outer handlers; the last run is the model's,
 * seen by them with the discrete sites as ordinary (unobserved) sites holding the drawn values.
 *
 * @param fn the model; condition it on the continuous values first (e.g. `condition(model,
 *   draw)` with an MCMC draw) to sample from `p(z_d | x, z_c)`.
 * @example
 * ```ts
 * // the assignments of a Gaussian mixture at one posterior draw of the locations
 * const tr = trace(inferDiscrete(condition(model, { locs }))).getTrace(y);
 * tr.value('z'); // one draw of p(z | y, locs), shape [N]
 * ```
 */
export function inferDiscrete<A extends unknown[], R>(
  fn: Fn<A, R>,
  options: InferDiscreteOptions = {},
): Fn<A, R> {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `inferDiscrete: expected the model function, got ${typeof fn}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected {temperature?, maxPlateNesting?}`);
  }
  checkOptionKeys(options, ['temperature', 'maxPlateNesting'], 'inferDiscrete');
  const temperature = options.temperature ?? 1;
  if (temperature !== 0 && temperature !== 1) {
    throw new ArgumentError('temperature', `expected 0 or 1, got ${String(temperature)}`);
  }
  const mpn = options.maxPlateNesting;
  if (mpn !== undefined && (!Number.isInteger(mpn) || mpn < 0)) {
    throw new ArgumentError('maxPlateNesting', `expected an integer >= 0, got ${String(mpn)}`);
  }
  return (...args: A): R => {
    // one stream for the whole call: the enclosing seed handler's, else the global one
    const rng = makeRng(handlerSeed());
    const nextSeed = (): number => Math.floor(rng() * 2147483647);
    const plain = plainRun(fn, args, nextSeed());
    const nest = mpn ?? plain.nest;
    const values: Record<string, tf.Tensor> = { ...plain.continuous };
    const fixed = (): Fn<A, R> =>
      wrapWith(fn, () => new FixedValuesMessenger(values, plain.subsamples));
    try {
      for (;;) {
        let name: string | undefined;
        const value = tf.tidy((): tf.Tensor | void => {
          const model = enumerateDiscrete(fixed(), -(nest + 1), 'inferDiscrete');
          let tr: Trace | undefined;
          block(() => {
            tr = trace(model).getTraceUntidied(...args).trace;
          })();
          const g = enumFactorGraph(tr as Trace, nest, 'inferDiscrete');
          if (g.vars.length === 0) return;
          const v = nextVar(g.vars);
          name = v.name;
          const op = temperature === 0 ? 'max' : 'logsumexp';
          const phi = marginalFactor(g.factors, g.vars, g.plates, v.label, op);
          const site = (tr as Trace).get(v.name) as Message;
          return drawSite(phi, v, site, temperature, nest, nextSeed());
        });
        if (value === undefined || name === undefined) break;
        values[name] = value;
      }
      return fixed()(...args);
    } catch (e) {
      tf.dispose([...Object.values(values), ...Object.values(plain.subsamples)]);
      throw e;
    }
  };
}
