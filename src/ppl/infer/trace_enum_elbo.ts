/**
 * `TraceEnumELBO` (Pyro's `TraceEnum_ELBO`): the ELBO with the model's discrete latent sites
 * marked `{infer: {enumerate: 'parallel'}}` summed out exactly instead of sampled:
 *
 * $$\mathcal L = \mathbb E_{q(z_c)}\Big[\log \sum_{z_d} p(x, z_d, z_c) - \log q(z_c)\Big]$$
 *
 * The model runs once under {@link enumerate}: each enumerated site takes all its values along a
 * new dim left of the plates, so every log-density holds all combinations; the factors that
 * depend on enumerated dims are contracted by {@link contractFactors} (variable elimination over
 * the plate tree, exact plate subsampling scales), the others are summed as in `TraceELBO`.
 * Enumerated sites must not appear in the guide. Plates must not be nested inside enumerated
 * dims beyond what the plate tree allows (e.g. a Gaussian mixture with a local assignment per data
 * point, or an HMM chain). A chain longer than a few steps needs `markov` around its loop, so that
 * its steps reuse enumeration dims (tfjs kernels stop at rank 6).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { enumerate } from '../handlers/enum.js';
import { replay } from '../handlers/replay.js';
import { trace } from '../handlers/trace.js';
import { isValidationEnabled } from '../runtime.js';
import type { Trace } from '../trace.js';
import { checkedReplay, checkModelGuideMatch } from './check.js';
import { contractFactors } from './contract.js';
import { enumFactorGraph } from './enum_factors.js';
import {
  asFn,
  guessMaxPlateNesting,
  guideLogProbSum,
  ParticleELBO,
  type Callable,
  type ELBOOptions,
} from './elbo.js';

/**
 * The ELBO with exact enumeration of discrete model sites.
 *
 * @example
 * ```ts
 * // Gaussian mixture: the assignment of each point is summed out
 * const model = (y: tf.Tensor) => {
 *   const w = sample('weights', new Dirichlet([1, 1]));
 *   const locs = sample('locs', new Normal(tf.zeros([2]), 10).toEvent(1));
 *   plate('data', n, () => {
 *     const z = sample('z', new Categorical({ probs: w }), { infer: { enumerate: 'parallel' } });
 *     sample('y', new Normal(tf.gather(locs, z), 1), { obs: y });
 *   });
 * };
 * const svi = new SVI(model, new AutoDelta(model), tf.train.adam(0.05), new TraceEnumELBO());
 * ```
 */
export class TraceEnumELBO extends ParticleELBO {
  constructor(options: ELBOOptions = {}) {
    super(options);
    if (this.vectorizeParticles) {
      throw new ArgumentError('vectorizeParticles', 'TraceEnumELBO draws particles one by one');
    }
  }

  protected override traces<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): { guideTrace: Trace; modelTrace: Trace } {
    this.maxPlateNesting ??= guessMaxPlateNesting(model, guide, args);
    const guideTrace = trace(asFn(guide)).getTraceUntidied(...args).trace;
    const validate = isValidationEnabled();
    const replayed = validate
      ? checkedReplay(asFn(model), guideTrace, this.maxPlateNesting)
      : replay(asFn(model), { trace: guideTrace });
    const enumModel = enumerate(replayed, -(this.maxPlateNesting + 1));
    const modelTrace = trace(enumModel).getTraceUntidied(...args).trace;
    if (validate) checkModelGuideMatch(modelTrace, guideTrace);
    for (const g of guideTrace.latentSites()) {
      if (g.infer.enumerate === 'parallel') {
        throw new ArgumentError(
          g.name,
          `guide site '${g.name}': enumeration in the guide is not supported`,
        );
      }
    }
    return { guideTrace, modelTrace };
  }

  protected particleElbo(guideTrace: Trace, modelTrace: Trace): tf.Tensor {
    const g = enumFactorGraph(modelTrace, this.maxPlateNesting ?? 0, 'TraceEnumELBO');
    const elbo = tf.add(g.rest, contractFactors(g.factors, g.vars, g.plates));
    return tf.sub(elbo, guideLogProbSum(guideTrace, 'TraceEnumELBO'));
  }
}
