/**
 * What the reparameterizers share: the generic wrappers of a site's distribution (`toEvent`,
 * `expand`, `mask`) stripped and re-applied around a rewritten family, and the infer flag that
 * keeps their auxiliary sites from being reparameterized again.
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../../distributions/distribution.js';
import { ExpandedDistribution } from '../../../distributions/expanded.js';
import { Independent } from '../../../distributions/independent.js';
import { MaskedDistribution } from '../../../distributions/masked.js';
import { ArgumentError } from '../../../utils/errors.js';
import type { ReparamMessage } from '../reparam.js';

/** Auxiliary sites are not reparameterized again (a function config could match them). */
export const NO_REPARAM = { infer: { _noReparam: true } };

/** One generic wrapper around a site's family: `toEvent(n)`, `expand(shape)` or `mask(m)`. */
export type Wrapper =
  | { kind: 'toEvent'; n: number }
  | { kind: 'expand'; batchShape: number[] }
  | { kind: 'mask'; mask: boolean | tf.Tensor };

/**
 * Strip the `toEvent` (Independent), `expand` (Expanded) and `mask` (Masked) wrappers of a site's
 * distribution: the inner family and the wrappers, outermost first, so that
 * {@link rewrap}`(base, wrappers)` rebuilds `fn` (NumPyro's `Reparam._unwrap`, extended to masks).
 */
export function unwrap(fn: Distribution): { base: Distribution; wrappers: Wrapper[] } {
  const wrappers: Wrapper[] = [];
  let d = fn;
  for (;;) {
    if (d instanceof Independent) {
      wrappers.push({ kind: 'toEvent', n: d.reinterpretedBatchNdims });
      d = d.base;
    } else if (d instanceof ExpandedDistribution) {
      wrappers.push({ kind: 'expand', batchShape: d.batchShape });
      d = d.base;
    } else if (d instanceof MaskedDistribution) {
      wrappers.push({ kind: 'mask', mask: d.maskValue });
      d = d.base;
    } else break;
  }
  return { base: d, wrappers };
}

/**
 * Apply `wrappers` (outermost first, as {@link unwrap} gives them) to a new inner family `d`,
 * innermost first. An `expand` broadcasts with `d`'s batch shape, since the new family's
 * parameters may already have the outer shape (e.g. `loc * centered`); the mask and the event
 * dims are kept, so the result has `fn`'s batch and event shapes.
 */
export function rewrap(d: Distribution, wrappers: readonly Wrapper[]): Distribution {
  let out = d;
  for (let i = wrappers.length - 1; i >= 0; i--) {
    const w = wrappers[i] as Wrapper;
    if (w.kind === 'toEvent') out = w.n > 0 ? out.toEvent(w.n) : out;
    else if (w.kind === 'mask') out = out.mask(w.mask);
    else {
      const target = broadcastShape(out.batchShape, w.batchShape);
      const same =
        out.batchShape.length === target.length && out.batchShape.every((v, j) => v === target[j]);
      if (!same) out = out.expand(target);
    }
  }
  return out;
}

/** numpy broadcast of two shapes known to broadcast (the wrapped family's shapes). */
function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) =>
    Math.max(a[a.length - n + i] ?? 1, b[b.length - n + i] ?? 1),
  );
}

/**
 * Refuse an observed site: reparameterizer `who` rewrites latent sites only.
 * @throws ArgumentError naming the site when `msg` is observed.
 */
export function checkLatent(msg: ReparamMessage, who: string): void {
  if (msg.isObserved) {
    throw new ArgumentError(
      msg.name,
      `${who}: site '${msg.name}' is observed; it reparameterizes latent sites only`,
    );
  }
}

/**
 * The checked family of a latent site for reparameterizer `who`: {@link checkLatent}, then
 * {@link unwrap}, then the base must be an instance of `family` (named `expected`, e.g.
 * `'a VonMises'`).
 * @throws ArgumentError naming the site when it is observed or of another family.
 */
export function latentFamily<T extends Distribution>(
  msg: ReparamMessage,
  who: string,
  family: abstract new (...args: never[]) => T,
  expected: string,
): { base: T; wrappers: Wrapper[] } {
  checkLatent(msg, who);
  const { base, wrappers } = unwrap(msg.fn);
  if (!(base instanceof family)) {
    throw new ArgumentError(
      msg.name,
      `${who}: site '${msg.name}' has a ${base.name}; expected ${expected}`,
    );
  }
  return { base, wrappers };
}
