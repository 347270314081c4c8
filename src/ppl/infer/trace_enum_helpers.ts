/**
 * Helpers of `TraceEnumELBO` (`trace_enum_elbo.ts`): the recorder of the contraction's cost terms
 * for the score-function surrogate ({@link contractedCostTerms}), the test for model sites
 * enumerated alongside the guide's ({@link ownEnumerated}), the refusals of sites it cannot
 * enumerate ({@link checkEnumeratedSites}), and the handler that reruns a guide's parallel
 * enumeration sequentially ({@link ParallelAsSequentialMessenger}).
 */
import * as tf from '@tensorflow/tfjs';
import { Messenger } from '../messenger.js';
import type { Message, PlateFrame } from '../runtime.js';
import type { Trace } from '../trace.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkModelGuideMatch, isEnumerated } from './check.js';
import type { TermWeigher } from './contract.js';
import type { EnumFactorGraph } from './enum_factors.js';
import type { CostTerm } from './guide_terms.js';

/**
 * A `TermWeigher` that weighs nothing but records, into `out`, every term of the contraction that
 * holds no enumerated variable any more (Pyro's contracted cost terms): the term `f` at ordinal
 * `O` (axes: plates of `O`), times the graph's common scale and the subsample scales of the
 * plates of `O` it is summed over,
 * laid out with each plate at its batch dim, as a {@link CostTerm} in the plates of `O` (how
 * `scoreFunctionTerm` Rao-Blackwellizes it: a guide site in plate `P ∈ O` keeps its own member's
 * part, any other keeps the term's sum). The terms add up to the contraction.
 */
export function contractedCostTerms(
  modelTrace: Trace,
  g: EnumFactorGraph,
  out: CostTerm[],
): TermWeigher {
  const frames = new Map<string, PlateFrame>();
  for (const s of modelTrace.sampleSites()) for (const f of s.cond) frames.set(f.name, f);
  return (ordinal, f, parent) => {
    if (!f.dims.every((d) => d.startsWith('p:'))) return f;
    let scale = g.scale;
    for (const p of ordinal) if (!parent.has(p)) scale *= g.plates.get(`p:${p}`)?.scale ?? 1;
    const cond = [...ordinal].flatMap((p) => {
      const fr = frames.get(p);
      return fr === undefined ? [] : [fr];
    });
    const rank = Math.max(0, ...cond.map((c) => -c.dim));
    const at = f.dims.map((d) => rank + (frames.get(d.slice(2))?.dim ?? -rank - 1));
    let value: tf.Tensor;
    if (f.dims.length === 0) value = f.t;
    else if (at.some((a) => a < 0 || a >= rank))
      value = tf.sum(f.t); // no frame: summed
    else {
      const order = at.map((_, i) => i).sort((a, b) => (at[a] as number) - (at[b] as number));
      const moved = order.every((o, i) => o === i) ? f.t : tf.transpose(f.t, order);
      const shape = new Array<number>(rank).fill(1);
      order.forEach((o) => (shape[at[o] as number] = f.t.shape[o] as number));
      value = tf.reshape(moved, shape);
    }
    out.push({ site: { cond }, value: scale === 1 ? value : tf.mul(value, scale) });
    return f;
  };
}

/** A latent site the model enumerates itself (one the guide does not draw), if any. */
export function ownEnumerated(modelTrace: Trace, guideTrace: Trace): Message | undefined {
  if (!guideTrace.latentSites().some(isEnumerated)) return undefined;
  return modelTrace
    .latentSites()
    .find((s) => isEnumerated(s) && guideTrace.get(s.name) === undefined);
}

/** Turns the guide's `enumerate: 'parallel'` marks into `'sequential'` ones. */
export class ParallelAsSequentialMessenger extends Messenger {
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.isObserved || msg.infer.enumerate !== 'parallel') return;
    msg.infer = { ...msg.infer, enumerate: 'sequential' };
  }
}

/**
 * Refuses what `TraceEnumELBO` cannot enumerate in the model's trace replayed on `guideTrace`: a
 * model site marked `enumerate: 'sequential'`, and (unless `allowBoth`, and never when a guide
 * site is enumerated by sampling) a model site enumerated while the guide enumerates `guideEnum`.
 * With `validate`, also checks the model's sites against the guide's (`checkModelGuideMatch`).
 *
 * @throws ArgumentError naming the refused site.
 */
export function checkEnumeratedSites(
  modelTrace: Trace,
  guideTrace: Trace,
  guideEnum: readonly Message[],
  allowBoth: boolean,
  validate: boolean,
): void {
  const seqModel = modelTrace
    .latentSites()
    .find((s) => s.infer.enumerate === 'sequential' && guideTrace.get(s.name) === undefined);
  if (seqModel !== undefined) {
    throw new ArgumentError(
      seqModel.name,
      `TraceEnumELBO: model site '${seqModel.name}' is marked enumerate: 'sequential'; ` +
        "the model's discrete sites are enumerated in parallel (enumerate: 'parallel'), " +
        "sequential enumeration is for the guide's sites (as in Pyro)",
    );
  }
  if (validate) checkModelGuideMatch(modelTrace, guideTrace);
  if (guideEnum.length > 0) {
    const own = ownEnumerated(modelTrace, guideTrace);
    const sampled = guideEnum.some((g) => g.infer._enumSampled !== undefined);
    if (own !== undefined && (!allowBoth || sampled)) {
      throw new ArgumentError(
        own.name,
        `model site '${own.name}' is enumerated while the guide enumerates ` +
          `'${(guideEnum[0] as Message).name}'` +
          (sampled ? ' by sampling (numSamples)' : '') +
          ': TraceEnumELBO enumerates discrete sites in the model or in the guide, not in ' +
          'both in one run' +
          (sampled ? ' (sampled guide sites cannot be rerun one value at a time)' : ''),
      );
    }
  }
}
