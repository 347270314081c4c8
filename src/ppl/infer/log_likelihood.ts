/**
 * Per-draw, per-datum log-likelihood of a model's observed sites (NumPyro's `log_likelihood`):
 * for every posterior draw `θ_s` (e.g. `MCMC.getSamples()`) the model runs with its latent sites
 * substituted by `θ_s`, and every observed sample site `y` gives
 *
 * $$\ell_{s} = \log p(y \mid \theta_s)$$
 *
 * elementwise over the site's batch shape (its event dims summed by `logProb`): shape
 * `[S, ...batchShape]`, or `[chains, draws, ...batchShape]` with `batchNdims: 2`. As in NumPyro
 * (whose `mask` handler and `obs_mask` wrap the site's distribution in a `MaskedDistribution`)
 * the entries a mask drops are 0, `ℓ_s = m · log p(y | θ_s)`, so missing or padded data (an
 * `obsMask`, a `mask` by sequence lengths) add nothing to `waic`/`loo`; the scales of handlers
 * are not applied (NumPyro keeps them apart from the distribution). `deterministic` sites are
 * left out, `factor` sites kept (a custom likelihood written as a factor). The input to
 * {@link waic} and {@link loo}.
 *
 * A discrete latent site missing from the draws is refused, naming it: `MCMC` sums such sites out
 * and stores no draws of them, and running the model would take one prior draw of each, giving
 * `log p(y | θ_s, z ~ p(z))` instead of `log p(y | θ_s)` (what NumPyro's `log_likelihood`
 * silently returns, pyro-ppl/numpyro#744). Marginalize it in the model (e.g. `MixtureSameFamily`)
 * or pass its draws (e.g. from `Predictive({posteriorSamples, inferDiscrete: true})`, giving the
 * conditional `log p(y | θ_s, z_s)`).
 */
import * as tf from '@tensorflow/tfjs';
import { substitute } from '../handlers/substitute.js';
import { trace } from '../handlers/trace.js';
import { siteMask, type Trace } from '../trace.js';
import type { Message } from '../runtime.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { asFn, type Callable } from './elbo.js';

/** The draws with their layout, as {@link Predictive}'s `posteriorSamples` and `batchNdims`. */
export interface LogLikelihoodOptions {
  /** Draws `{site: [S, ...shape]}` (or `[chains, draws, ...shape]` with `batchNdims: 2`). */
  posteriorSamples: Record<string, tf.Tensor>;
  /** How many leading dims index draws: 1 (default) or 2 (grouped by chain). */
  batchNdims?: 1 | 2;
}

function isOptions(x: object): x is LogLikelihoodOptions {
  const p = (x as { posteriorSamples?: unknown }).posteriorSamples;
  return p !== undefined && !(p instanceof tf.Tensor);
}

/** Check the draws; return their leading dims. */
function checkDraws(ps: unknown, bn: number): number[] {
  if (ps === null || typeof ps !== 'object') {
    throw new ArgumentError('posteriorSamples', 'expected a record {site: tensor}');
  }
  const entries = Object.entries(ps as Record<string, unknown>);
  if (entries.length === 0) {
    throw new ArgumentError('posteriorSamples', 'expected at least one site');
  }
  let lead: number[] | undefined;
  for (const [k, t] of entries) {
    if (!(t instanceof tf.Tensor) || t.isDisposed || t.rank < bn) {
      throw new ArgumentError(
        'posteriorSamples',
        `site '${k}': expected a live tensor with ${bn} leading draw dimension(s)`,
      );
    }
    const l: number[] = t.shape.slice(0, bn);
    const first: number[] = lead ?? l;
    lead = first;
    if (l.some((d, i) => d !== first[i])) {
      throw new ArgumentError(
        'posteriorSamples',
        `site '${k}' has leading dims [${l.join(',')}], another site [${first.join(',')}]: expected common ones`,
      );
    }
  }
  return lead as number[];
}

/**
 * The first run; when it fails on draws that look grouped by chain (every tensor `[C, D, ...]`
 * with the same `C, D`) without `batchNdims: 2`, the error says so (as `Predictive`'s).
 */
function firstRun(run: () => Trace, ps: Record<string, tf.Tensor>): Trace {
  try {
    return run();
  } catch (e) {
    const ts = Object.values(ps);
    const [c, d] = ts[0]?.shape ?? [];
    if (!ts.every((t) => t.rank >= 2 && t.shape[0] === c && t.shape[1] === d)) throw e;
    throw new ArgumentError(
      'batchNdims',
      `logLikelihood: the model failed on the first draw (${
        e instanceof Error ? e.message : String(e)
      }); the draws look grouped by chain ([${String(c)}, ${String(d)}, ...], as ` +
        'MCMC.getSamples({groupByChain: true}) gives): pass {posteriorSamples, batchNdims: 2}',
    );
  }
}

/**
 * Throw naming the first unobserved discrete sample site of the trace `tr` that is not in the
 * draws (its value would be a prior draw: see the module docs).
 */
function checkDiscreteDrawn(tr: Trace, draws: Record<string, tf.Tensor>): void {
  for (const site of tr.sampleSites()) {
    if (site.isObserved || site.fn === null || !site.fn.support.isDiscrete) continue;
    if (site.name in draws) continue;
    throw new ArgumentError(
      'posteriorSamples',
      `logLikelihood: the discrete latent site '${site.name}' has no draws (MCMC sums discrete ` +
        'sites out and does not store them); the model would use a prior draw of it, not ' +
        `log p(y | θ) summed over it. Marginalize '${site.name}' in the model (e.g. ` +
        'MixtureSameFamily), or pass its draws (e.g. Predictive({posteriorSamples, ' +
        'inferDiscrete: true}), giving the conditional log p(y | θ, z))',
    );
  }
}

/**
 * A site's log-density `m · log p(value)` elementwise, `m` its mask (from `mask` handlers and
 * `obsMask`; none: 1), without its scale (NumPyro's `site["fn"].log_prob(site["value"])` with the
 * mask folded into the distribution). Untidied.
 */
function maskedLogProb(site: Message): tf.Tensor {
  const fn = site.fn as NonNullable<Message['fn']>;
  const lp = fn.logProb(site.value as tf.Tensor);
  if (site.mask === false) return tf.zerosLike(lp);
  if (site.mask instanceof tf.Tensor)
    return tf.where(siteMask(site, lp.shape), lp, tf.zerosLike(lp));
  return lp;
}

/**
 * The log-likelihood of each observed site at each draw (new tensors: dispose them).
 *
 * @param model the model.
 * @param draws the posterior draws `{site: [S, ...]}`, or `{posteriorSamples, batchNdims}`.
 * @param args the model's arguments.
 * @returns `{site: [S, ...batchShape]}` (`[C, D, ...batchShape]` with `batchNdims: 2`).
 * @throws ArgumentError naming `model`, `posteriorSamples` or `batchNdims` before any run;
 *   naming `posteriorSamples` and the site on the first run when a discrete latent has no draws.
 *
 * @example
 * ```ts
 * const ll = logLikelihood(model, mcmc.getSamples(), x, y); // {y: [S, N]}
 * waic(ll.y); loo(ll.y);
 * ```
 */
export function logLikelihood<A extends unknown[]>(
  model: Callable<A>,
  draws: Record<string, tf.Tensor> | LogLikelihoodOptions,
  ...args: A
): Record<string, tf.Tensor> {
  const fn = asFn(model, 'model');
  if (draws === null || typeof draws !== 'object') {
    throw new ArgumentError('posteriorSamples', 'expected a record {site: tensor}');
  }
  let ps: Record<string, tf.Tensor>;
  let bn: number;
  if (isOptions(draws)) {
    checkOptionKeys(draws, ['posteriorSamples', 'batchNdims'], 'logLikelihood');
    bn = draws.batchNdims ?? 1;
    if (bn !== 1 && bn !== 2) {
      throw new ArgumentError('batchNdims', `expected 1 or 2, got ${String(bn)}`);
    }
    ps = draws.posteriorSamples;
  } else {
    ps = draws;
    bn = 1;
  }
  const lead = checkDraws(ps, bn);
  const s = lead.reduce((a, d) => a * d, 1);
  const per: Record<string, tf.Tensor[]> = {};
  const flat =
    bn === 1
      ? ps
      : Object.fromEntries(
          Object.entries(ps).map(([k, t]) => [k, tf.reshape(t, [s, ...t.shape.slice(bn)])]),
        );
  try {
    for (let i = 0; i < s; i++) {
      tf.tidy(() => {
        const values = Object.fromEntries(
          Object.entries(flat).map(([k, t]) => [k, tf.gather(t, i)]),
        );
        const run = substitute(fn, (msg) => values[msg.name]);
        const tr =
          i === 0 && bn === 1
            ? firstRun(() => trace(run).getTraceUntidied(...args).trace, ps)
            : trace(run).getTraceUntidied(...args).trace;
        if (i === 0) checkDiscreteDrawn(tr, flat);
        for (const site of tr.observedSites()) {
          if (site.infer['deterministic'] === true || site.fn === null || site.value === null) {
            continue;
          }
          (per[site.name] ??= []).push(tf.keep(maskedLogProb(site)));
        }
      });
    }
    const out: Record<string, tf.Tensor> = {};
    try {
      for (const [k, ts] of Object.entries(per)) {
        out[k] = tf.tidy(() => {
          const st = tf.stack(ts);
          return bn === 1 ? st : tf.reshape(st, [...lead, ...st.shape.slice(1)]);
        });
      }
    } catch (e) {
      tf.dispose(Object.values(out));
      throw e;
    }
    return out;
  } finally {
    for (const ts of Object.values(per)) tf.dispose(ts);
    if (flat !== ps) tf.dispose(Object.values(flat));
  }
}
