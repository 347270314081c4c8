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
 * A guide may enumerate its own discrete sites instead (`AutoDiscreteParallel`): each log-density
 * is then averaged under the guide's probabilities of the values it holds. When both enumerate, the
 * model's own sites are contracted with the guide's dims (outside plates) kept free, and each
 * contracted term is averaged under the guide, in one run of each. Plates must not be nested inside enumerated
 * dims beyond what the plate tree allows (e.g. a Gaussian mixture with a local assignment per data
 * point, or an HMM chain). A chain longer than a few steps needs `markov` around its loop, so that
 * its steps reuse enumeration dims (tfjs kernels stop at rank 6).
 *
 * Guide sites marked `{infer: {enumerate: 'sequential'}}` (`configEnumerate(guide,
 * 'sequential')`) are enumerated by running the guide once per value (Pyro's
 * `iter_discrete_traces`), each run's terms weighted by the guide's probabilities of its values
 * (`seq_enum.ts`):
 *
 * $$\mathcal L = \sum_{v} \sum_c w_c(v)\, c(v), \qquad w_c(v) = \prod_{s:\,O_s\subseteq O_c} q_s(v_s)
 *   \prod_{s:\,O_s\not\subseteq O_c} K_s^{-1}.$$
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { enumerate } from '../handlers/enum.js';
import { iterDiscreteEscape, iterDiscreteExtend, queue, TraceQueue } from '../handlers/queue.js';
import { replay } from '../handlers/replay.js';
import { wrapWith } from '../messenger.js';
import { trace } from '../handlers/trace.js';
import type { Message } from '../runtime.js';
import { isValidationEnabled } from '../site_validation.js';
import { siteLogProb, Trace } from '../trace.js';
import type { Distribution } from '../../distributions/distribution.js';
import { checkedReplay, isEnumerated } from './check.js';
import { contractFactors, type LabeledFactor } from './contract.js';
import { enumFactorGraph } from './enum_factors.js';
import { enumMarginals, marginalDistribution } from './enum_marginals.js';
import {
  enumeratedGuideElbo,
  jointEnumeratedElbo,
  jointPassFits,
  ordinalOf,
} from './enum_guide_elbo.js';
import {
  asFn,
  guessMaxPlateNesting,
  ParticleELBO,
  type Callable,
  type ELBOOptions,
} from './elbo.js';
import {
  guideLogProbSum,
  guideLogProbTerms,
  scoreFunctionTerm,
  type CostTerm,
} from './guide_terms.js';
import { sequentialWeights, weighContracted, weighTerm } from './seq_enum.js';
import {
  checkEnumeratedSites,
  contractedCostTerms,
  ownEnumerated,
  ParallelAsSequentialMessenger,
} from './trace_enum_helpers.js';

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
 *     // enumerated values are float32, as the family's draws: cast to index
 *     sample('y', new Normal(tf.gather(locs, tf.cast(z, 'int32')), 1), { obs: y });
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
    const first = -(this.maxPlateNesting + 1);
    // the guide's sites marked for parallel enumeration (AutoDiscreteParallel) take all their
    // values at dims left of the plates; the model replays them there
    const guideTrace = trace(enumerate(asFn(guide), first)).getTraceUntidied(...args).trace;
    return { guideTrace, modelTrace: this.modelTraceFor(model, guideTrace, args) };
  }

  /**
   * The guide's traces of one particle: one per combination of values of its sites marked
   * `{infer: {enumerate: 'sequential'}}` (Pyro's `iter_discrete_traces` with a LIFO queue; one
   * trace when it has none), each with the model's trace replayed on it (untidied).
   */
  private *tracePairs<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
    allowRerun = true,
  ): Generator<{ guideTrace: Trace; modelTrace: Trace }, void, undefined> {
    this.maxPlateNesting ??= guessMaxPlateNesting(model, guide, args);
    const first = -(this.maxPlateNesting + 1);
    let guideFn = asFn(guide);
    for (let sequential = false; ; sequential = true) {
      const q = new TraceQueue({ lifo: true });
      q.put(new Trace());
      const runs = trace(
        queue(enumerate(guideFn, first), q, {
          escapeFn: iterDiscreteEscape,
          extendFn: iterDiscreteExtend,
        }),
      );
      let rerun = false;
      try {
        while (!q.empty()) {
          const guideTrace = runs.getTraceUntidied(...args).trace;
          const modelTrace = this.modelTraceFor(model, guideTrace, args, allowRerun && !sequential);
          // the model enumerates its own sites while the guide enumerates some in parallel
          // (Pyro sums both in one run): one joint pass when the guide's sites lie outside
          // plates (jointEnumeratedElbo); else enumerate the guide's sequentially instead, the
          // same ELBO (one guide run per value), whose terms the model's contraction weighs
          rerun =
            !sequential &&
            ownEnumerated(modelTrace, guideTrace) !== undefined &&
            !jointPassFits(guideTrace);
          if (rerun) break;
          yield { guideTrace, modelTrace };
        }
      } finally {
        q.dispose();
      }
      if (!rerun) return;
      guideFn = wrapWith(asFn(guide), () => new ParallelAsSequentialMessenger());
    }
  }

  /**
   * The model's trace replayed on `guideTrace`, its own marked sites enumerated (untidied). With
   * `allowBoth`, a model that enumerates its own sites while the guide enumerates some in parallel
   * is returned (the caller reruns the guide sequentially) instead of refused.
   */
  private modelTraceFor<A extends unknown[]>(
    model: Callable<A>,
    guideTrace: Trace,
    args: A,
    allowBoth = false,
  ): Trace {
    const nest = this.maxPlateNesting ?? 0;
    const guideEnum = guideTrace.latentSites().filter(isEnumerated);
    const validate = isValidationEnabled();
    const replayed = validate
      ? checkedReplay(asFn(model), guideTrace, nest)
      : replay(asFn(model), { trace: guideTrace });
    const enumModel = enumerate(replayed, -(nest + 1) - guideEnum.length);
    const modelTrace = trace(enumModel).getTraceUntidied(...args).trace;
    checkEnumeratedSites(modelTrace, guideTrace, guideEnum, allowBoth, validate);
    return modelTrace;
  }

  /**
   * `-ELBO`, averaged over the particles; each particle sums over the guide's sequential runs
   * (see `seq_enum.ts`), each run adding its weighted estimate and its score-function surrogate
   * for the guide's sites that are neither reparameterized nor enumerated.
   */
  override differentiableLoss<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): tf.Scalar {
    return this.particleAverage(this.numParticles, () => this.particleTerms(model, guide, args));
  }

  /** One particle's terms: per guide run, its weighted estimate plus its surrogate (untidied). */
  private *particleTerms<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    args: A,
  ): Generator<tf.Tensor, void, undefined> {
    for (const { guideTrace, modelTrace } of this.tracePairs(model, guide, args)) {
      const terms: CostTerm[] = [];
      const elbo = this.particleElbo(guideTrace, modelTrace, terms);
      // the score-function sites' cost: the estimate's terms, Rao-Blackwellized by plates, when
      // the plain path gave them; else the whole estimate (also unbiased)
      const cost = terms.length > 0 ? (): readonly CostTerm[] => terms : elbo;
      yield tf.add(elbo, scoreFunctionTerm(guideTrace, cost));
    }
  }

  /**
   * The posterior marginals of the model's enumerated sites given the guide (Pyro's
   * `TraceEnum_ELBO.compute_marginals`): for each site `z` enumerated in the model (not in the
   * guide), the distribution of `p(z_i | x, z_guide)` per member `i` of its plates, batch shape the
   * site's plate sizes at their dims (leading 1s dropped): a `Bernoulli` for a boolean site, a
   * `OneHotCategorical` for one-hot vectors, else a `Categorical` over the positions of its
   * support values. Exact in the model's sites (read off the contraction by differentiation, see
   * `enum_marginals.ts`), conditioned on one draw of the guide's sampled sites.
   *
   * Guide sites marked `{infer: {enumerate: 'sequential'}}` outside plates are enumerated
   * exactly (Pyro refuses them): the guide runs once per combination `v` of their values, and the
   * marginal is the mixture of the runs' conditionals weighted by the guide's probabilities,
   *
   * $$p(z_i = k) = \sum_v \Big(\prod_s q_s(v_s)\Big)\, p(z_i = k \mid x, v, c_v),$$
   *
   * exact when the guide has no sampled sites; a sampled site drawn after a sequential one is
   * drawn once per run (`c_v ~ q(c | v)`, an unbiased mixture). A sequential site inside a plate
   * is refused: its runs give every member the same value, which does not cover the members'
   * combinations that a marginal coupling them needs. The caller disposes the distributions.
   *
   * @param model the model (sites marked for enumeration, e.g. by `configEnumerate`).
   * @param guide the guide (its draws of the other latent sites condition the marginals).
   * @param args the model's and guide's arguments.
   * @throws ArgumentError when the guide enumerates in parallel, enumerates sequentially inside a
   *   plate, or the runs enumerate different model sites.
   * @example
   * ```ts
   * const m = new TraceEnumELBO({ maxPlateNesting: 1 }).computeMarginals(model, guide, data);
   * m.x.probs; // [N, K]: p(x_i = k | data) for each data point
   * ```
   */
  computeMarginals<A extends unknown[]>(
    model: Callable<A>,
    guide: Callable<A>,
    ...args: A
  ): Record<string, Distribution> {
    let sites: { name: string; supportKind: string }[] = [];
    const logits = tf.tidy(() => {
      const nest = () => this.maxPlateNesting ?? 0;
      // per site: the sum over the runs of weight * probabilities (or the one run's logits)
      let acc: tf.Tensor[] | undefined;
      let runs = 0;
      let single = true;
      for (const { guideTrace, modelTrace } of this.tracePairs(model, guide, args, false)) {
        const guideEnum = guideTrace.latentSites().filter(isEnumerated);
        if (guideEnum.length > 0) {
          throw new ArgumentError(
            'guide',
            `computeMarginals: the guide enumerates '${(guideEnum[0] as Message).name}' in ` +
              'parallel; the marginals are those of the sites the model enumerates (sample the ' +
              "guide's site, or enumerate it with enumerate: 'sequential' outside plates)",
          );
        }
        const seq = sequentialWeights(guideTrace, nest(), 'computeMarginals');
        const inPlate = seq.find((w) => w.plates.size > 0);
        if (inPlate !== undefined) {
          throw new ArgumentError(
            inPlate.name,
            `computeMarginals: guide site '${inPlate.name}' is enumerated sequentially inside ` +
              `plate(s) [${[...inPlate.plates].join(', ')}]: each run gives every member the ` +
              "same value, which does not cover the members' combinations that the marginals " +
              'need; sample it (no enumerate mark) or enumerate it in the model',
          );
        }
        const g = enumFactorGraph(modelTrace, nest(), 'computeMarginals');
        const ms = enumMarginals(modelTrace, g);
        const names = ms.map((m) => m.name);
        if (runs > 0 && names.join('\u0000') !== sites.map((x) => x.name).join('\u0000')) {
          throw new ArgumentError(
            'model',
            `computeMarginals: the model enumerates [${names.join(', ')}] in one run of the ` +
              "guide's sequential sites and [" +
              sites.map((x) => x.name).join(', ') +
              '] in another: the marginals need the same enumerated sites in every run',
          );
        }
        sites = ms.map((m) => ({ name: m.name, supportKind: m.supportKind }));
        runs++;
        single = single && seq.length === 0;
        if (single) {
          acc = ms.map((m) => m.logits);
          continue;
        }
        // the run's weight prod_s q_s(v_s) (each site outside plates: one value)
        let lw: tf.Tensor = tf.scalar(0);
        for (const w of seq) lw = tf.add(lw, tf.sum(tf.log(w.q)));
        const parts = ms.map((m) => tf.exp(tf.add(m.logits, lw)));
        acc = acc === undefined ? parts : acc.map((a, k) => tf.add(a, parts[k] as tf.Tensor));
      }
      const out = acc ?? [];
      // only the logits leave the tidy (it keeps every tensor it returns)
      return single ? out : out.map((t) => tf.log(tf.div(t, tf.sum(t, -1, true))));
    });
    const out: Record<string, Distribution> = {};
    try {
      sites.forEach((s, i) => {
        out[s.name] = marginalDistribution({ ...s, logits: logits[i] as tf.Tensor });
      });
    } finally {
      tf.dispose(logits);
    }
    return out;
  }

  /**
   * One guide run's estimate. With `terms` (the plain path: no sequential or parallel guide
   * enumeration), its terms are appended one by one for the score-function surrogate: the
   * contracted model terms at the ordinals where they hold no enumerated variable any more
   * ({@link contractedCostTerms}), the other model sites' `s log p` and the guide's `-s log q`.
   */
  protected particleElbo(guideTrace: Trace, modelTrace: Trace, terms?: CostTerm[]): tf.Tensor {
    const nest = this.maxPlateNesting ?? 0;
    const seq = sequentialWeights(guideTrace, nest, 'TraceEnumELBO');
    const guideEnum = guideTrace.latentSites().filter(isEnumerated);
    if (guideEnum.length > 0) {
      if (ownEnumerated(modelTrace, guideTrace) !== undefined) {
        return jointEnumeratedElbo(guideEnum, guideTrace, modelTrace, nest);
      }
      return enumeratedGuideElbo(guideEnum, guideTrace, modelTrace, seq);
    }
    const g = enumFactorGraph(modelTrace, nest, 'TraceEnumELBO');
    if (seq.length === 0) {
      const record = terms === undefined ? undefined : contractedCostTerms(modelTrace, g, terms);
      const contracted = contractFactors(g.factors, g.vars, g.plates, 'logsumexp', record);
      const elbo = tf.add(g.rest, tf.mul(contracted, g.scale));
      if (terms !== undefined) {
        for (const site of g.restSites) terms.push({ site, value: siteLogProb(site) });
        for (const { site, logProb } of guideLogProbTerms(guideTrace, 'TraceEnumELBO')) {
          terms.push({ site, value: tf.neg(logProb) });
        }
      }
      return tf.sub(elbo, guideLogProbSum(guideTrace, 'TraceEnumELBO'));
    }
    // one sequential run: every cost term weighted by the guide's probabilities of the values
    // of this run that it depends on (seq_enum.ts)
    const weigh = (
      ordinal: ReadonlySet<string>,
      f: LabeledFactor,
      parent: ReadonlySet<string>,
    ): LabeledFactor => weighContracted(f, ordinal, parent, seq);
    let elbo = tf.mul(contractFactors(g.factors, g.vars, g.plates, 'logsumexp', weigh), g.scale);
    for (const s of g.restSites) {
      elbo = tf.add(elbo, tf.sum(weighTerm(siteLogProb(s), ordinalOf(s), seq)));
    }
    for (const { site, logProb } of guideLogProbTerms(guideTrace, 'TraceEnumELBO')) {
      elbo = tf.sub(elbo, tf.sum(weighTerm(logProb, ordinalOf(site), seq)));
    }
    return elbo;
  }
}
