/**
 * Consistency of a model and its guide (Pyro's `check_model_guide_match`, made an error): after
 * the guide's trace and the model's replayed trace are recorded, every latent sample site of the
 * model must be drawn by the guide (unless the model enumerates it), and every latent site of the
 * guide must exist in the model (unless the guide marks it `{infer: {isAuxiliary: true}}`, as the
 * autoguides do for their joint latent vector).
 */
import { ArgumentError } from '../../utils/errors.js';
import type { Trace } from '../trace.js';

/** Whether a model site is enumerated by {@link enumerate}-style handlers (not guided). */
export function isEnumerated(site: { infer: Record<string, unknown> }): boolean {
  return site.infer._enumerated === true;
}

/**
 * Throw an `ArgumentError` naming the first site that breaks the model/guide match.
 * @param modelTrace the model's trace (replayed at the guide's sample).
 * @param guideTrace the guide's trace.
 */
export function checkModelGuideMatch(modelTrace: Trace, guideTrace: Trace): void {
  for (const s of modelTrace.latentSites()) {
    if (isEnumerated(s) || s.infer.enumerate === 'parallel') continue;
    const g = guideTrace.get(s.name);
    if (g === undefined || g.type !== 'sample') {
      throw new ArgumentError(
        s.name,
        `latent site '${s.name}' of the model is missing from the guide (the guide must sample ` +
          'every unobserved model site, or the model must observe or enumerate it)',
      );
    }
  }
  for (const g of guideTrace.latentSites()) {
    if (g.infer.isAuxiliary === true) continue;
    const s = modelTrace.get(g.name);
    if (s === undefined || s.type !== 'sample') {
      throw new ArgumentError(
        g.name,
        `guide site '${g.name}' does not appear in the model (sample it in the model, or mark ` +
          'it {infer: {isAuxiliary: true}})',
      );
    }
    if (s.isObserved) {
      throw new ArgumentError(g.name, `guide site '${g.name}' is observed in the model`);
    }
  }
}
