/**
 * Consistency of a model and its guide (Pyro's `check_model_guide_match`, made an error): after
 * the guide's trace and the model's replayed trace are recorded, every latent sample site of the
 * model must be drawn by the guide (unless the model enumerates it), and every latent site of the
 * guide must exist in the model (unless the guide marks it `{infer: {isAuxiliary: true}}`, as the
 * autoguides do for their joint latent vector). A value the guide draws must also fit the model
 * site's shape (Pyro's `check_site_shape`): see {@link checkReplayedShape}.
 */
import { ArgumentError } from '../../utils/errors.js';
import { replay } from '../handlers/replay.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';
import type { Trace } from '../trace.js';

/** Whether a model site is enumerated by {@link enumerate}-style handlers (not guided). */
export function isEnumerated(site: { infer: Record<string, unknown> }): boolean {
  return site.infer._enumerated === true;
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(',')}]`;
}

/**
 * Check that the value the guide drew for model site `s` does not enlarge its log-density: with
 * `b` the model distribution's batch shape and `v` the value's batch part (its shape less the
 * event dims), right-aligned, every dim of `v` must equal `b`'s or be 1, and `v` may have more
 * dims than `b` only left of the `maxPlateNesting` plate dims (dims an enclosing enumeration
 * adds). Otherwise, e.g. a guide drawing `mu` of shape `[3]` for a scalar model site, the ELBO
 * would sum `log p` over 3 unrelated copies (Pyro: "invalid log_prob shape" at the site).
 * @param s the model's site, replayed at the guide's value.
 * @param maxPlateNesting the plate dims of the model (`Infinity` when unknown: no extra dims).
 * @throws ArgumentError naming the site and the shapes.
 */
export function checkReplayedShape(s: Message, maxPlateNesting: number): void {
  const fn = s.fn;
  const v = s.value;
  if (fn === null || v === null) return;
  const e = fn.eventShape.length;
  const vb = v.shape.slice(0, Math.max(0, v.rank - e));
  const fb = fn.batchShape;
  for (let i = 1; i <= vb.length; i++) {
    const a = vb[vb.length - i] as number;
    const b = i <= fb.length ? (fb[fb.length - i] as number) : 1;
    if (a === b || a === 1 || (i > fb.length && i > maxPlateNesting)) continue;
    throw new ArgumentError(
      s.name,
      `site '${s.name}': the guide's value has shape ${shapeStr(v.shape)}, which does not fit ` +
        `the model's batch shape ${shapeStr(fb)} and event shape ${shapeStr(fn.eventShape)} ` +
        `(size ${a} at dim ${-i}, the model has ${i <= fb.length ? b : 'none'}): the guide must ` +
        'draw the model site with its shape (same plates; event dims by toEvent)',
    );
  }
}

/** Checks each replayed latent site's shape ({@link checkReplayedShape}). @internal */
export class ReplayShapeMessenger extends Messenger {
  constructor(
    private readonly guideTrace: Trace,
    private readonly maxPlateNesting: number,
  ) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || msg.isObserved || msg.value === null) return;
    if (this.guideTrace.get(msg.name)?.value !== msg.value) return;
    checkReplayedShape(msg, this.maxPlateNesting);
  }
}

/**
 * `replay(model, {trace: guideTrace})` that checks, as each site is replayed (so that the error
 * names the site the guide got wrong, not a later site that uses it), that the guide's value fits
 * the model site ({@link checkReplayedShape}).
 * @param model the model.
 * @param guideTrace the guide's trace.
 * @param maxPlateNesting the model's plate dims (`Infinity` when unknown).
 */
export function checkedReplay<A extends unknown[], R>(
  model: Fn<A, R>,
  guideTrace: Trace,
  maxPlateNesting: number,
): Fn<A, R> {
  return wrapWith(
    replay(model, { trace: guideTrace }),
    () => new ReplayShapeMessenger(guideTrace, maxPlateNesting),
  );
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
