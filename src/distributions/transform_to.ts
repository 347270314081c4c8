/**
 * The constraint -> bijector registry (Pyro's `biject_to`, TFP's default event-space bijectors):
 * `bijectTo(c)` returns a bijector from unconstrained reals onto the set `c`, used by autoguides,
 * MCMC potentials and the param store to work in an unconstrained space.
 *
 * | constraint | bijector |
 * |---|---|
 * | `real` | Identity |
 * | `positive` | Exp |
 * | `greaterThan(a)`, `greaterThanEq(a)`, `nonnegative` | `a + exp(x)` |
 * | `lessThan(a)` | `a - exp(x)` |
 * | `unitInterval` | Sigmoid |
 * | `interval(a, b)` | `a + (b - a) sigmoid(x)` |
 * | `simplex` | StickBreaking (`K-1 -> K`) |
 * | `ordered` | OrderedTransform |
 * | `lowerCholesky` | LowerCholeskyTransform (`D(D+1)/2 -> D x D`) |
 * | `corrCholesky` | CorrCholeskyTransform (`D(D-1)/2 -> D x D`) |
 * | `positiveDefinite` | LowerCholeskyTransform then `L L^T` |
 * | `independent(c, n)` | `bijectTo(c)` with `n` more event dims |
 * | `corrMatrix` | CorrCholeskyTransform then `L L^T` (`CorrCholeskyOuter`) |
 * | `zeroSum(k)` | ZeroSumTransform (`[n_1 - 1, ..] -> [n_1, ..]`, NumPyro's) |
 *
 * Discrete constraints have no bijection from the reals: an `ArgumentError` names them.
 * The returned bijector is new and owns whatever it made (call `dispose()` when done); tensor
 * bounds of the constraint stay the caller's.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, NotRegisteredError } from '../utils/errors.js';
import type { Bijector } from '../bijectors/bijector.js';
import { Identity } from '../bijectors/identity.js';
import { Exp } from '../bijectors/exp.js';
import { Sigmoid } from '../bijectors/sigmoid.js';
import { Affine } from '../bijectors/affine.js';
import { Shift } from '../bijectors/shift.js';
import { Chain } from '../bijectors/chain.js';
import { StickBreaking } from '../bijectors/stick_breaking.js';
import { OrderedTransform } from '../bijectors/ordered.js';
import { LowerCholeskyTransform } from '../bijectors/lower_cholesky.js';
import { CorrCholeskyTransform } from '../bijectors/corr_cholesky.js';
import { CholeskyOuter } from '../bijectors/cholesky_outer.js';
import { IndependentTransform } from '../bijectors/independent_transform.js';
import { CorrCholeskyOuter } from '../bijectors/corr_cholesky_outer.js';
import { ZeroSumTransform } from '../bijectors/zero_sum.js';
import {
  Constraint,
  GreaterThan,
  GreaterThanEq,
  IndependentConstraint,
  Interval,
  LessThan,
  type Bound,
  type ConstraintKind,
} from '../constraints/constraints.js';

/** Builds the bijector for one constraint of a registered kind. */
export type BijectorFactory = (c: Constraint) => Bijector;

const registry = new Map<string, BijectorFactory>();

/**
 * Register (or replace) the bijector factory of a constraint kind, e.g. for a user-defined
 * constraint class with its own `kind`.
 * @param kind the constraint's `kind`.
 * @param factory maps a constraint of that kind to a new bijector from the reals onto it.
 */
export function registerBijectTo(kind: ConstraintKind, factory: BijectorFactory): void {
  if (typeof kind !== 'string' || kind.length === 0) {
    throw new ArgumentError('kind', 'expected a non-empty constraint kind');
  }
  if (typeof factory !== 'function') throw new ArgumentError('factory', 'expected a function');
  registry.set(kind, factory);
}

/**
 * A new bijector `f` from unconstrained reals onto the support `c`:
 * `f(R^{inverseShape}) = c`, with `log|det J_f|` for the change of variables
 *
 * $$p_X(x) = p_Y(f(x))\,\left|\det J_f(x)\right|.$$
 *
 * @param c a continuous constraint (e.g. `dist.support`).
 * @throws ArgumentError for discrete constraints or unregistered kinds.
 */
export function bijectTo(c: Constraint): Bijector {
  if (!(c instanceof Constraint)) throw new ArgumentError('c', 'expected a Constraint');
  if (c.isDiscrete) {
    throw new ArgumentError(
      'c',
      `the discrete constraint ${c.name} has no bijection from the real line (enumerate or ` +
        `sample it instead)`,
    );
  }
  const f = registry.get(c.kind);
  if (f === undefined) {
    const hint =
      c.kind === 'sphere'
        ? ' (no bijection from the reals covers the sphere: sample a ProjectedNormal latent ' +
          'through reparam(model, {site: new ProjectedNormalReparam()}), as in Pyro)'
        : '';
    throw new NotRegisteredError(
      `bijectTo: no bijector registered for constraint ${c.name}${hint}`,
    );
  }
  return f(c);
}

/** Alias of {@link bijectTo} (Pyro's `transform_to` name). */
export const transformTo: (c: Constraint) => Bijector = bijectTo;

/**
 * A chain onto a constraint `c`: its `codomain` is `c` (NumPyro's `biject_to(c).codomain`), not
 * the outer part's (an affine map's reals), so that a `TransformedDistribution` through
 * `bijectTo(greaterThan(2))` scores `-inf` below 2, not `log` of a negative number (NaN).
 */
class ChainOnto extends Chain {
  constructor(
    parts: readonly Bijector[],
    name: string,
    private readonly onto: Constraint,
  ) {
    super(parts, { name });
  }
  override get codomain(): Constraint {
    return this.onto;
  }
}

/** `loc + sign * exp(x)` onto `c`, with the chain owning its parts. */
function expShift(loc: Bound, sign: 1 | -1, c: Constraint): Bijector {
  const exp = new Exp();
  const outer = sign === 1 ? new Shift(loc) : new Affine(loc, -1);
  const chain = new ChainOnto([outer, exp], sign === 1 ? 'ExpShift' : 'NegExpShift', c);
  chain.adopt(outer);
  chain.adopt(exp);
  return chain;
}

registerBijectTo('real', () => new Identity());
registerBijectTo('positive', () => new Exp());
registerBijectTo('greaterThan', (c) => expShift((c as GreaterThan).lower, 1, c));
registerBijectTo('greaterThanEq', (c) => expShift((c as GreaterThanEq).lower, 1, c));
registerBijectTo('nonnegative', (c) => expShift(0, 1, c));
registerBijectTo('lessThan', (c) => expShift((c as LessThan).upper, -1, c));
registerBijectTo('unitInterval', () => new Sigmoid());
/** `lower + (upper - lower) * sigmoid(x)` onto `c`, the chain owning its parts. */
function sigmoidInterval(lower: Bound, upper: Bound, c: Constraint): Bijector {
  const sig = new Sigmoid();
  let affine: Affine;
  if (typeof lower === 'number' && typeof upper === 'number') {
    affine = new Affine(lower, upper - lower);
  } else {
    const width = tf.tidy(() => tf.sub(upper, lower));
    try {
      affine = new Affine(lower, width);
    } catch (e) {
      width.dispose();
      throw e;
    }
    affine.adopt(width);
  }
  const chain = new ChainOnto([affine, sig], 'SigmoidInterval', c);
  chain.adopt(affine);
  chain.adopt(sig);
  return chain;
}

registerBijectTo('interval', (c) =>
  sigmoidInterval((c as Interval).lower, (c as Interval).upper, c),
);
registerBijectTo('circular', (c) => sigmoidInterval(-Math.PI, Math.PI, c));
registerBijectTo('simplex', () => new StickBreaking());
registerBijectTo('ordered', () => new OrderedTransform());
registerBijectTo('lowerCholesky', () => new LowerCholeskyTransform());
registerBijectTo('corrCholesky', () => new CorrCholeskyTransform());
registerBijectTo('positiveDefinite', () => {
  const lc = new LowerCholeskyTransform();
  const outer = new CholeskyOuter();
  const chain = new Chain([outer, lc], { name: 'PositiveDefinite' });
  chain.adopt(lc);
  chain.adopt(outer);
  return chain;
});
registerBijectTo('independent', (c) => {
  const ic = c as IndependentConstraint;
  const base = bijectTo(ic.base);
  if (ic.reinterpretedBatchNdims === 0) return base;
  const b = new IndependentTransform(base, ic.reinterpretedBatchNdims);
  b.adopt(base);
  return b;
});
registerBijectTo('corrMatrix', () => {
  const cc = new CorrCholeskyTransform();
  const outer = new CorrCholeskyOuter();
  const chain = new Chain([outer, cc], { name: 'CorrMatrix' });
  chain.adopt(cc);
  chain.adopt(outer);
  return chain;
});
registerBijectTo('zeroSum', (c) => new ZeroSumTransform(c.eventDim));
