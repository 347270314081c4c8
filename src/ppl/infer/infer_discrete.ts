/**
 * `inferDiscrete` (Pyro's `infer_discrete`): run a model with its discrete latent sites drawn from
 * their posterior given everything else the model sees (observed and conditioned sites):
 *
 * $$z_d \sim p(z_d \mid x, z_c)\ (\text{temperature } 1), \qquad
 *   z_d = \operatorname{arg\,max}_{z_d} p(z_d, x, z_c)\ (\text{temperature } 0).$$
 *
 * Every unobserved discrete site with a finite support is enumerated (marked or not, as `MCMC`
 * does). As Pyro's, one call is one forward and one backward pass over the factor graph:
 *
 * 1. one plain run finds the plate nesting and fixes the values of the unobserved continuous
 *    sites (those an outer `condition`/`substitute`/`replay` gives included) and the members of
 *    every subsampled plate (the model need not be conditioned on the
 *    continuous sites: as Pyro's replay of its enumerated trace, the discrete sites are drawn
 *    given the continuous values the call returns with, not fresh draws of them);
 * 2. one run under `enumerate` gives the factor graph, which is contracted by variable
 *    elimination over the plate tree (`contract.ts` {@link eliminationTables}: sum-product at
 *    temperature 1, max-product at 0), keeping the factor each variable was eliminated from;
 * 3. the backward pass (`backtrack.ts`) fixes the variables from the last eliminated to the
 *    first: each from its factor at the values of the later ones (a draw of the conditional, or
 *    its argmax: forward filtering backward sampling, or Viterbi's traceback, for a chain);
 * 4. one replay of the model with those values, seen by the outer handlers, so deterministic and
 *    downstream sites see them.
 *
 * A chain of `T` steps under `markov` costs `O(T K^2)` and three model runs, whatever `T`. The
 * randomness of a call (the plain run's draws and the discrete draws) comes from one stream started
 * by the innermost enclosing `seed` handler (so `seed(inferDiscrete(model), 0)` repeats its
 * draws), else from the global stream (`setSeed`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { makeRng } from '../../utils/seed.js';
import { block } from '../handlers/block.js';
import { enumerateDiscrete } from '../handlers/enum.js';
import { enumerateSupportTable } from '../handlers/enum_support.js';
import { OuterValuesMessenger, outerHandlers } from '../handlers/outer_values.js';
import { handlerSeed, seed } from '../handlers/seed.js';
import { trace } from '../handlers/trace.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';
import type { Trace } from '../trace.js';
import { backtrack, type BacktrackVar } from './backtrack.js';
import { eliminationTables, type LabeledFactor } from './contract.js';
import { enumFactorGraph } from './enum_factors.js';

/** Options of {@link inferDiscrete}. */
export interface InferDiscreteOptions {
  /**
   * `1` (default): draw the discrete sites from their posterior; `0`: their joint most probable
   * values (max-product, Viterbi for a chain).
   */
  temperature?: 0 | 1;
  /** The model's plate nesting (Pyro's `first_available_dim = -(maxPlateNesting + 1)`). */
  maxPlateNesting?: number;
  /**
   * Pyro's `first_available_dim`: the rightmost dim free for enumeration, a negative integer,
   * `-(maxPlateNesting + 1)` (give one of the two).
   */
  firstAvailableDim?: number;
}

/**
 * Fixes the values of latent sample sites and of subsample sites (a plate's drawn indices) by
 * name, so that every run of one `inferDiscrete` call sees the same continuous values and visits
 * the same plate members; in the replay, also each discrete site's value from its chosen index
 * (made at the site, where its distribution gives the batch shape, and listed in `made`).
 */
class FixedValuesMessenger extends Messenger {
  constructor(
    private readonly values: Record<string, tf.Tensor>,
    private readonly subsamples: Record<string, tf.Tensor>,
    private readonly chosen?: Map<string, LabeledFactor>,
    private readonly made: tf.Tensor[] = [],
  ) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type === 'subsample') {
      const v = this.subsamples[msg.name];
      if (v !== undefined) msg.value = v;
    } else if (msg.type === 'sample' && !msg.isObserved) {
      const v = this.values[msg.name];
      const idx = this.chosen?.get(`e:${msg.name}`);
      if (v !== undefined) msg.value = v;
      else if (idx !== undefined) {
        const value = tf.tidy(() => siteValue(msg, idx));
        this.made.push(value);
        msg.value = value;
      }
    }
  }
}

/**
 * The value of a discrete site from its chosen support indices (an int32 tensor over plate labels
 * `p:name`): each index placed at its plate's batch dim, broadcast to the batch shape, then looked
 * up in the support table, `[...batchShape, ...eventShape]`.
 */
function siteValue(site: Message, idx: LabeledFactor): tf.Tensor {
  const fn = site.fn as NonNullable<Message['fn']>;
  const batch = fn.batchShape;
  const plateAt = new Map(site.cond.map((f) => [`p:${f.name}`, batch.length + f.dim]));
  batch.forEach((n, i) => {
    if (n !== 1 && ![...plateAt.values()].includes(i)) {
      throw new ArgumentError(
        site.name,
        `inferDiscrete: site '${site.name}' has the batch shape [${batch.join(',')}], whose dim ` +
          `${i - batch.length} is no plate of the site (declare it with a plate)`,
      );
    }
  });
  const order = idx.dims
    .map((d, i) => ({ i, at: plateAt.get(d) ?? -1 }))
    .sort((a, b) => a.at - b.at);
  if (order.some((o) => o.at < 0)) {
    throw new ArgumentError(
      site.name,
      `inferDiscrete: site '${site.name}' (batch shape [${batch.join(',')}]) lacks a dim of ` +
        `its plates [${idx.dims.join(', ')}]`,
    );
  }
  const perm = order.map((o) => o.i);
  const moved = perm.every((p, i) => p === i) ? idx.t : tf.transpose(idx.t, perm);
  const shape = batch.map(() => 1);
  order.forEach((o) => (shape[o.at] = idx.t.shape[o.i] as number));
  const placed = tf.broadcastTo(tf.reshape(moved, shape), batch);
  return tf.gather(enumerateSupportTable(fn, site.name), placed);
}

/**
 * `fn` under the values that the handlers outside the call give its sites ({@link
 * OuterValuesMessenger}, the stack read now): the hidden runs see a posterior draw that
 * `Predictive` conditions on, or a guide trace replayed outside, as the last (visible) run does.
 */
function withOuterValues<A extends unknown[], R>(fn: Fn<A, R>): Fn<A, R> {
  const outer = outerHandlers();
  return wrapWith(fn, () => new OuterValuesMessenger(outer));
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
  // the values the outer condition/substitute/replay give, as the visible last run sees them
  const forwarded = withOuterValues(fn);
  let nest = 0;
  // returned from the tidy (not kept), so an enclosing tidy still owns them
  const [continuous, subsamples] = tf.tidy(() => {
    const cont: Record<string, tf.Tensor> = {};
    const subs: Record<string, tf.Tensor> = {};
    block(() => {
      const tr = trace(seed(forwarded, rngSeed)).getTraceUntidied(...args).trace;
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

/**
 * The model `fn` with its discrete latent sites drawn from their posterior given the rest of the
 * run (temperature 1) or set to their joint most probable values (temperature 0); see the module
 * docs. The plain and enumerated runs are hidden from outer handlers; the last run is the
 * model's, seen by them with the discrete sites as ordinary (unobserved) sites holding the drawn
 * values.
 *
 * The values that handlers outside the call give its sites (`condition`, `substitute`,
 * `replay`, e.g. `Predictive`'s posterior draw or a guide's trace replayed) hold in every run,
 * the hidden ones included ({@link OuterValuesMessenger}): `Predictive(inferDiscrete(model),
 * {posteriorSamples})` draws `z_d` given each posterior draw, as `condition` inside does. (Pyro
 * and NumPyro block them from the hidden runs, which then draw fresh continuous values.)
 *
 * @param fn the model; the continuous values come from `condition`/`substitute`/`replay`,
 *   inside or outside (e.g. an MCMC draw), to sample from `p(z_d | x, z_c)`.
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
    throw new ArgumentError(
      'options',
      `expected {temperature?, maxPlateNesting?, firstAvailableDim?}`,
    );
  }
  checkOptionKeys(
    options,
    ['temperature', 'maxPlateNesting', 'firstAvailableDim'],
    'inferDiscrete',
  );
  const temperature = options.temperature ?? 1;
  if (temperature !== 0 && temperature !== 1) {
    throw new ArgumentError('temperature', `expected 0 or 1, got ${String(temperature)}`);
  }
  const fad = options.firstAvailableDim;
  if (fad !== undefined && (!Number.isInteger(fad) || fad >= 0)) {
    throw new ArgumentError('firstAvailableDim', `expected a negative integer, got ${String(fad)}`);
  }
  const mpn = options.maxPlateNesting ?? (fad === undefined ? undefined : -1 - fad);
  if (mpn !== undefined && (!Number.isInteger(mpn) || mpn < 0)) {
    throw new ArgumentError('maxPlateNesting', `expected an integer >= 0, got ${String(mpn)}`);
  }
  if (fad !== undefined && mpn !== -1 - fad) {
    throw new ArgumentError(
      'firstAvailableDim',
      `firstAvailableDim ${fad} and maxPlateNesting ${String(mpn)} disagree (expected ` +
        `firstAvailableDim = -(maxPlateNesting + 1) = ${-1 - (mpn as number)}; give one of them)`,
    );
  }
  return (...args: A): R => {
    // one stream for the whole call: the enclosing seed handler's, else the global one
    const rng = makeRng(handlerSeed());
    const nextSeed = (): number => Math.floor(rng() * 2147483647);
    const plain = plainRun(fn, args, nextSeed());
    const nest = mpn ?? plain.nest;
    const chosen = new Map<string, LabeledFactor>();
    const made: tf.Tensor[] = [];
    try {
      tf.tidy(() => {
        const model = enumerateDiscrete(
          withOuterValues(
            wrapWith(fn, () => new FixedValuesMessenger(plain.continuous, plain.subsamples)),
          ),
          -(nest + 1),
          'inferDiscrete',
        );
        let tr: Trace | undefined;
        block(() => {
          tr = trace(model).getTraceUntidied(...args).trace;
        })();
        const g = enumFactorGraph(tr as Trace, nest, 'inferDiscrete');
        const op = temperature === 0 ? 'max' : 'logsumexp';
        const steps = eliminationTables(g.factors, g.vars, g.plates, op);
        const vars: BacktrackVar[] = g.vars.map((v) => {
          const site = (tr as Trace).get(v.name) as Message;
          const fn = site.fn as NonNullable<Message['fn']>;
          const k = enumerateSupportTable(fn, site.name).shape[0] as number;
          const plates = site.cond.map((f) => ({ label: `p:${f.name}`, size: f.subsampleSize }));
          return { label: v.label, size: k, plates };
        });
        const fixed = backtrack(steps, vars, temperature, nextSeed);
        for (const [label, f] of fixed) chosen.set(label, { dims: f.dims, t: tf.keep(f.t) });
      });
      return wrapWith(
        fn,
        () => new FixedValuesMessenger(plain.continuous, plain.subsamples, chosen, made),
      )(...args);
    } catch (e) {
      tf.dispose([...Object.values(plain.continuous), ...Object.values(plain.subsamples), ...made]);
      throw e;
    } finally {
      tf.dispose([...chosen.values()].map((f) => f.t));
    }
  };
}
