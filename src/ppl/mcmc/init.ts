/**
 * The starting point of MCMC chains: the strategy (Pyro's `init_to_*`, `../init_strategy.ts`:
 * `uniform` (default, Stan's: every unconstrained coordinate `~ Uniform(-2, 2)`), `feasible`,
 * `sample`, `median`, `mean`, `value`) applied site by site while the model runs once, so that each
 * site's initial value can depend on the earlier ones.
 *
 * A start where the potential or its gradient is not finite is redrawn (up to 100 times).
 *
 * Discrete latent sites are not part of the unconstrained vector: they are summed out of the
 * potential by enumeration (`potential.ts`). In the initial run they take one prior draw (so the
 * continuous sites get their shapes without enumeration dims, as in NumPyro); a discrete site
 * whose support cannot be enumerated is refused here, naming it.
 */
import * as tf from '@tensorflow/tfjs';
import { bijectTo } from '../../distributions/transform_to.js';
import { ArgumentError } from '../../utils/errors.js';
import {
  initSiteValue,
  resolveInit,
  type InitStrategy,
  type ResolvedInit,
} from '../init_strategy.js';
import { Messenger } from '../messenger.js';
import type { Message } from '../runtime.js';
import { trace } from '../handlers/trace.js';
import type { Trace } from '../trace.js';
import { EnumDimAllocator } from '../handlers/enum_dims.js';
import { checkEnumerable, maxEnumRank } from '../handlers/enum_support.js';
import type { DiscreteEnumeration, LatentSite } from './potential.js';
import { isDeterministicSite } from './site_kinds.js';
import type { ChainRng } from './rng.js';

export {
  initToUniform,
  initToMedian,
  initToMean,
  initToSample,
  initToFeasible,
  initToValue,
  type InitStrategy,
} from '../init_strategy.js';

/**
 * Throw when the sample site `msg` lies in a subsampled plate: HMC/NUTS need one fixed potential,
 * and a minibatch potential (fresh indices at every evaluation, scaled by `size / subsampleSize`)
 * is neither fixed nor the posterior's (NumPyro refuses it the same way).
 */
function checkFullPlates(msg: Message): void {
  const f = msg.cond.find((c) => c.subsampleSize !== c.size);
  if (f === undefined) return;
  throw new ArgumentError(
    'model',
    `MCMC: site '${msg.name}' is inside plate '${f.name}' subsampled to ${f.subsampleSize} of ` +
      `${f.size}; HMC/NUTS need the full data (drop subsample/subsampleSize for MCMC)`,
  );
}

/** Sets each latent site's initial value and records its unconstrained image. */
class InitMessenger extends Messenger {
  readonly unconstrained = new Map<
    string,
    { shape: number[]; ushape: number[]; z: Float64Array }
  >();
  /** The discrete latent sites met (drawn from their prior), in order. */
  readonly discrete: string[] = [];
  constructor(
    private readonly strategy: ResolvedInit,
    private readonly rng: ChainRng,
  ) {
    super();
  }
  override processMessage(msg: Message): void {
    // (HMCECS's estimator takes the subsampled plates' observed sites out of the density)
    if (msg.type === 'sample' && msg.infer.ecsLikelihood !== true) checkFullPlates(msg);
    if (msg.type !== 'sample' || msg.isObserved || msg.value !== null || msg.fn === null) return;
    const fn = msg.fn;
    if (fn.support.isDiscrete) {
      checkEnumerable(msg, 'MCMC');
      this.discrete.push(msg.name);
      msg.value = fn.sample([], Math.floor(this.rng.uniform() * 2147483647));
      return;
    }
    const bij = bijectTo(fn.support);
    const shape = [...fn.batchShape, ...fn.eventShape];
    const ushape = bij.inverseShape(shape);
    const seed = Math.floor(this.rng.uniform() * 2147483647);
    const value = initSiteValue(
      this.strategy,
      { name: msg.name, fn, bijector: bij, shape, seed, uniform: () => this.rng.uniform() },
      'initStrategy',
    );
    const z = bij.inverse(value);
    msg.value = value;
    this.unconstrained.set(msg.name, {
      shape,
      ushape,
      z: Float64Array.from(z.dataSync()),
    });
  }
}

/**
 * Run the model once under the strategy: returns the latent layout (in execution order) and the
 * flat unconstrained start.
 */
export function initialPoint<A extends unknown[]>(
  model: (...args: A) => unknown,
  args: A,
  strategy: InitStrategy | undefined,
  rng: ChainRng,
  maxPlateNesting?: number,
): { sites: LatentSite[]; z: Float64Array; enumeration?: DiscreteEnumeration } {
  const s = resolveInit(strategy, 'initStrategy');
  const sites: LatentSite[] = [];
  const parts: Float64Array[] = [];
  let enumeration: DiscreteEnumeration | undefined;
  tf.tidy(() => {
    const init = new InitMessenger(s, rng);
    const tr = trace((...a: A) => init.run(() => model(...a))).getTraceUntidied(...args).trace;
    if (init.discrete.length > 0) enumeration = enumerationOf(tr, init.discrete, maxPlateNesting);
    let offset = 0;
    for (const site of tr.latentSites()) {
      const u = init.unconstrained.get(site.name);
      if (u === undefined) continue; // a value given by a handler inside the model
      sites.push({
        name: site.name,
        shape: u.shape,
        unconstrainedShape: u.ushape,
        offset,
        size: u.z.length,
      });
      parts.push(u.z);
      offset += u.z.length;
    }
  });
  if (s.kind === 'value') {
    for (const name of Object.keys(s.values)) {
      if (!sites.some((x) => x.name === name)) {
        throw new ArgumentError(
          'initStrategy',
          enumeration?.sites.includes(name) === true
            ? `init value for '${name}': a discrete site, summed out of the potential (no value to start from)`
            : `init value for '${name}': no latent site of that name`,
        );
      }
    }
  }
  const z = new Float64Array(sites.reduce((n, x) => n + x.size, 0));
  parts.forEach((p, i) => z.set(p, (sites[i] as LatentSite).offset));
  return enumeration === undefined ? { sites, z } : { sites, z, enumeration };
}

/**
 * How the discrete sites `names` of the initial trace `tr` are enumerated: at dims left of the
 * deepest plate dim of the run (or of `maxPlateNesting` when given), within the rank tfjs kernels
 * allow; the shapes of the deterministic sites without enumeration.
 */
function enumerationOf(
  tr: Trace,
  names: string[],
  maxPlateNesting: number | undefined,
): DiscreteEnumeration {
  let deepest = 0;
  for (const site of tr.sites()) for (const f of site.cond) deepest = Math.max(deepest, -f.dim);
  const nest = maxPlateNesting ?? deepest;
  if (nest < deepest) {
    throw new ArgumentError(
      'maxPlateNesting',
      `expected at least ${deepest}, the deepest plate dim of the model, got ${nest}`,
    );
  }
  // the dims enumeration will give them (reused along a markov chain), as EnumMessenger does
  const wanted = new Set(names);
  const dims = new EnumDimAllocator(-(nest + 1));
  let i = 0;
  for (const site of tr.sampleSites()) {
    const scope = site.infer._markovScope as ReadonlyMap<string, number> | undefined;
    const depth = (site.infer._markovDepth as number | undefined) ?? 0;
    if (!wanted.has(site.name)) {
      dims.record(site.name, depth, new Map());
      continue;
    }
    const label = `e:${site.name}`;
    const dim = dims.allocate(label, scope !== undefined, dims.visible(scope));
    i++;
    const maxRank = maxEnumRank();
    if (-dim > maxRank) {
      throw new ArgumentError(
        'model',
        `MCMC: enumerating the discrete latent site '${site.name}' needs batch dim ${dim} (the ` +
          `${i}th discrete site left of ${nest} plate dims), but the ${tf.getBackend()} kernels ` +
          `handle tensors of rank <= ${maxRank + 1} (a Categorical adds one): at most ${maxRank} plate and ` +
          'enumeration dims together (fewer discrete sites, fewer nested plates, or a chain of ' +
          'discrete sites declared with markov)',
      );
    }
    dims.record(site.name, depth, new Map([[dim, label]]));
  }
  const deterministicShapes = new Map<string, number[]>();
  for (const site of tr.sampleSites()) {
    if (isDeterministicSite(site) && site.value !== null) {
      deterministicShapes.set(site.name, [...site.value.shape]);
    }
  }
  return { maxPlateNesting: nest, sites: [...names], deterministicShapes };
}
