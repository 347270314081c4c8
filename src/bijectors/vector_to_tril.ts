/**
 * The base of the bijectors from vectors to lower-triangular matrices (`LowerCholeskyTransform`,
 * `CorrCholeskyTransform`): domain event dim 1, codomain event dim 2, and the shape maps
 *
 * $$m = n(n+1)/2 \;\text{(with the diagonal)},\qquad m = n(n-1)/2 \;\text{(strictly lower)}.$$
 */
import { ArgumentError } from '../utils/errors.js';
import { Bijector, type BijectorOptions } from './bijector.js';

/** `n` with `n (n + 1) / 2 = m` (`n (n - 1) / 2 = m` when `strict`), or throw naming `what`. */
export function triangularSide(m: number, what: string, strict = false): number {
  const n = strict ? (1 + Math.sqrt(1 + 8 * m)) / 2 : (-1 + Math.sqrt(1 + 8 * m)) / 2;
  if (!Number.isInteger(n)) {
    throw new ArgumentError(
      what,
      `expected a last dim n(n${strict ? '-' : '+'}1)/2 for some integer n, got ${m}`,
    );
  }
  return n;
}

/** A bijector from `[..., m]` vectors to `[..., n, n]` lower-triangular matrices. */
export abstract class VectorToTrilBijector extends Bijector {
  /** True when the vector holds the strictly lower entries only (`m = n(n-1)/2`). */
  private readonly strict: boolean;
  /** @param options name and validation flag. @param strict see {@link strict}. */
  protected constructor(options: BijectorOptions, strict: boolean) {
    super(options);
    this.strict = strict;
  }
  override get eventRank(): number {
    return 1;
  }
  override get codomainEventDim(): number {
    return 2;
  }
  override forwardShape(shape: readonly number[]): number[] {
    const n = triangularSide(shape[shape.length - 1] ?? -1, 'shape', this.strict);
    return [...shape.slice(0, -1), n, n];
  }
  override inverseShape(shape: readonly number[]): number[] {
    const n = shape[shape.length - 1] ?? 0;
    return [...shape.slice(0, -2), (n * (this.strict ? n - 1 : n + 1)) / 2];
  }
  /** Check `x` is `[..., m]` and return the side `n` (an `ArgumentError` naming `x` otherwise). */
  protected sideOf(x: { rank: number; shape: number[] }): number {
    if (x.rank < 1) {
      throw new ArgumentError('x', `expected vectors [..., D(D${this.strict ? '-' : '+'}1)/2]`);
    }
    return triangularSide(x.shape[x.rank - 1] as number, 'x', this.strict);
  }
}
