/**
 * The base of the support constraints (after Pyro's `torch.distributions.constraints`): a
 * {@link Constraint} is a set `S` of values with the number of trailing dimensions that form one
 * element (`eventDim`), whether `S` is discrete, and a membership test `check(x)`; plus the
 * families in `real_line.ts`, `structured.ts` and `discrete.ts` (each with its instances and
 * factories), the bound helpers in `bound.ts`; `constraints.ts` gathers them.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/** A bound of an interval-type constraint: a number or a tensor broadcasting with the values. */
export type Bound = number | tf.Tensor;

/** The kinds of the built-in constraints (the keys of the `bijectTo` registry). */
export type ConstraintKind =
  | 'real'
  | 'circular'
  | 'positive'
  | 'nonnegative'
  | 'unitInterval'
  | 'interval'
  | 'greaterThan'
  | 'greaterThanEq'
  | 'lessThan'
  | 'simplex'
  | 'ordered'
  | 'lowerCholesky'
  | 'corrCholesky'
  | 'positiveDefinite'
  | 'integer'
  | 'nonnegativeInteger'
  | 'integerInterval'
  | 'boolean'
  | 'independent'
  | 'multinomial'
  | 'oneHot'
  | 'corrMatrix'
  | 'zeroSum'
  | 'sphere'
  | (string & { readonly __custom?: never });

/**
 * A set of admissible values (a distribution's support or a parameter's domain).
 *
 * `check(x)` is the elementwise-then-event-reduced membership test
 *
 * $$\text{check}(x)_b = \bigwedge_{e \in \text{event}} [x_{b,e} \in S]$$
 *
 * with the last `eventDim` dimensions of `x` forming one event; it never carries gradients.
 */
export abstract class Constraint {
  /** Registry key of the constraint family (e.g. `'interval'` for every `interval(a, b)`). */
  abstract readonly kind: ConstraintKind;
  /** Number of trailing dimensions that form one element of the set. */
  abstract readonly eventDim: number;
  /** True for sets of integers / booleans (no bijection from the reals exists). */
  readonly isDiscrete: boolean = false;

  /** A readable name, e.g. `interval(0, 1)`, used in error messages. */
  get name(): string {
    return this.kind;
  }
  toString(): string {
    return this.name;
  }

  /** The elementwise membership test (before reducing the event dims); runs inside a tidy. */
  protected abstract _check(x: tf.Tensor): tf.Tensor;

  /**
   * Membership test: a bool tensor of shape `x.shape` minus the last `eventDim` dims, true where
   * the whole event lies in the set.
   * @param x values, float or int; rank at least `eventDim`.
   */
  check(x: tf.Tensor): tf.Tensor {
    if (!(x instanceof tf.Tensor)) throw new ArgumentError('x', 'expected a tensor');
    if (x.rank < this.eventDim) {
      throw new ArgumentError(
        'x',
        `${this.name} has event dim ${this.eventDim}; got a value of shape [${x.shape.join(',')}]`,
      );
    }
    return tf.tidy(() => {
      const ok = this._check(x.toFloat());
      // reduce whatever event dims the elementwise test left
      const extra = ok.rank - (x.rank - this.eventDim);
      if (extra <= 0) return ok;
      return tf.all(
        ok,
        Array.from({ length: extra }, (_, i) => ok.rank - extra + i),
      );
    });
  }

  /** True when every element of `x` lies in the set (host-side read; for argument checks). */
  checkAll(x: tf.Tensor): boolean {
    const ok = this.check(x);
    try {
      const v = ok.dataSync();
      for (let i = 0; i < v.length; i++) if (!v[i]) return false;
      return true;
    } finally {
      ok.dispose();
    }
  }
}
