/**
 * Setting up one chain: its initial unconstrained point (the kernel's init strategy for a model,
 * `Uniform(-2, 2)` draws or `initParams` for a flat potential, a model's `initParams` record over
 * the strategy's point (`model_init_params.ts`), the potential's own initial point
 * for one of named parameters (`potential_fn.ts`); up to 100 redraws where the
 * potential or its gradient is not finite or the model rejects the point) and the potential it
 * samples: the model's potential (its discrete latents summed out, see `potential.ts`) recorded
 * and replayed when the kernel's `compile` allows (`compiled_potential.ts`), else evaluated with
 * tfjs; and the map from positions to stored site values.
 */
import { ArgumentError } from '../../utils/errors.js';
import { compileConstrain, type Constrainer } from './compiled_constrain.js';
import { chainPotential } from './compiled_potential.js';
import { initialPoint } from './init.js';
import { applyModelInitParams } from './model_init_params.js';
import type { HamiltonianKernel } from './kernel.js';
import { ModelPotential, type LatentSite, type Potential } from './potential.js';
import { CompiledPotential } from './replayed_potential.js';
import { FnPotential } from './potential_fn.js';
import type { ChainRng } from './rng.js';

/** A chain ready to sample. */
export interface ChainSetup {
  potential: Potential;
  /**
   * Site values of a position (absent for a flat potential: the draws are stored as `z`; a
   * potential of named parameters stores them by name).
   */
  model?: Constrainer;
  /** The initial position. */
  z: Float64Array;
  /** The latent layout (empty for a flat potential). */
  sites: LatentSite[];
  /** Whether `potential` is a recorded, replayed one. */
  compiled: boolean;
  /** Why it is not (when a model's potential was not compiled). */
  reason?: string;
}

function finiteAt(potential: Potential, z: Float64Array): boolean {
  const { value, grad } = potential.valueAndGrad(z);
  return Number.isFinite(value) && grad.every(Number.isFinite);
}

/**
 * Set up a chain of `kernel` on the model's `args` with the chain's generator `rng` (see the
 * module docs).
 */
export function setupChain(
  kernel: HamiltonianKernel,
  rng: ChainRng,
  args: unknown[],
  initParams?: Float64Array | number[],
  modelInit?: { values: Map<string, Float64Array>; chain: number; numChains: number },
): ChainSetup {
  const own = kernel.ownSetup(rng, args);
  if (own !== undefined) {
    if (modelInit !== undefined) {
      throw new ArgumentError(
        'initParams',
        `a ${kernel.constructor.name} kernel sets its chains up itself: start it with its (inner) kernel's initStrategy, e.g. initToValue({...})`,
      );
    }
    return own;
  }
  if (kernel.isPotential) {
    const potential = kernel.potential;
    const compiled = potential instanceof CompiledPotential;
    // a potential of named parameters (potentialFromFn) starts at its own initParams and names
    // its draws
    const init =
      initParams ?? (potential instanceof FnPotential ? potential.initParams : undefined);
    for (let attempt = 0; ; attempt++) {
      const z =
        init !== undefined
          ? Float64Array.from(init)
          : Float64Array.from({ length: potential.dim }, () => 4 * rng.uniform() - 2);
      const finite = init !== undefined || finiteAt(potential, z);
      if (!finite && attempt >= 99) {
        throw new ArgumentError(
          'model',
          'MCMC: the potential energy or its gradient is not finite at 100 Uniform(-2, 2) starts: give initParams (a finite start)',
        );
      }
      if (finite) {
        const out: ChainSetup = { potential, z, sites: [], compiled };
        if (potential instanceof FnPotential) out.model = potential;
        return out;
      }
    }
  }
  const model = kernel.target as (...a: unknown[]) => unknown;
  for (let attempt = 0; ; attempt++) {
    const { sites, z, enumeration } = initialPoint(
      model,
      args,
      kernel.initStrategy,
      rng,
      kernel.maxPlateNesting,
    );
    if (sites.length === 0) {
      throw new ArgumentError(
        'model',
        enumeration === undefined
          ? 'MCMC: the model has no latent sample sites'
          : `MCMC: the model has no continuous latent sample sites (only the discrete ${enumeration.sites.map((n) => `'${n}'`).join(', ')}, summed out): nothing for HMC/NUTS to sample`,
      );
    }
    kernel.bindLayout(sites);
    if (modelInit !== undefined) {
      applyModelInitParams(modelInit.values, sites, z, modelInit.chain, modelInit.numChains);
    }
    const mp = new ModelPotential(model, args, sites, enumeration);
    let ok = false;
    try {
      const { value, grad } = mp.evaluate(z);
      ok = Number.isFinite(value) && grad.every(Number.isFinite);
    } catch (e) {
      // a start the model rejects (e.g. a parameter out of range): redraw, up to 100 times
      if (!(e instanceof ArgumentError) || e.argument === 'model' || attempt >= 99) throw e;
    }
    if (!ok && modelInit !== undefined && modelInit.values.size === sites.length) {
      throw new ArgumentError(
        'initParams',
        "the model's potential or its gradient is not finite at the given start",
      );
    }
    if (!ok && attempt >= 99) {
      const bad = mp.nonFiniteTerms(z);
      throw new ArgumentError(
        'model',
        `MCMC: no finite start in 100 points of the init strategy: the potential energy or its gradient is not finite there${bad.length > 0 ? ` (at the last: ${bad.join(', ')} not finite)` : ''}; a latent site whose density is finite at one value only (a latent Delta: use deterministic), an impossible observation, or a factor of -Infinity?`,
      );
    }
    if (ok) {
      const cp = chainPotential(mp, z, kernel.compile);
      const constrainer = (cp.compiled ? compileConstrain(mp, z) : null) ?? mp;
      const out: ChainSetup = {
        potential: cp.potential,
        model: constrainer,
        z,
        sites,
        compiled: cp.compiled,
      };
      if (cp.reason !== undefined) out.reason = cp.reason;
      return out;
    }
  }
}
