/**
 * Constraints as JSON, for saving the parameter store ({@link ParamStore.save}): a constraint
 * `c` becomes `{kind, lower?, upper?, base?, reinterpretedBatchNdims?, eventDim?}`
 * ({@link constraintToSpec}, numeric bounds only) and back ({@link constraintFromSpec}), so that
 * `constraintFromSpec(constraintToSpec(c))` is `c` for the named constraints and an equal
 * constraint for the parametrised ones (`interval(lower, upper)`, `greaterThan(lower)`, ...).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import {
  greaterThan,
  greaterThanEq,
  independent,
  integer,
  integerInterval,
  interval,
  lessThan,
  positiveExp,
  type Constraint,
} from './constraints.js';
import * as C from '../constraints/constraints.js';

/** A constraint as JSON: its kind, numeric bounds, and the base of an `independent`. */
export interface ConstraintSpec {
  kind: string;
  lower?: number;
  upper?: number;
  base?: ConstraintSpec;
  reinterpretedBatchNdims?: number;
  /** The number of zero-sum axes of a `zeroSum` constraint. */
  eventDim?: number;
}

/** A scalar bound as a number; an `ArgumentError` for a tensor-valued bound of more than one entry. */
function boundValue(b: unknown, what: string): number {
  if (typeof b === 'number') return b;
  if (b instanceof tf.Tensor && b.size === 1) return b.dataSync()[0] as number;
  throw new ArgumentError('constraint', `cannot save the tensor-valued bound of ${what}`);
}

/** The JSON form of a constraint (numeric bounds only). */
export function constraintToSpec(c: Constraint): ConstraintSpec {
  const o = c as Constraint & {
    lower?: unknown;
    upper?: unknown;
    base?: Constraint;
    reinterpretedBatchNdims?: number;
  };
  const spec: ConstraintSpec = { kind: c.kind };
  if (c.kind === 'independent' && o.base !== undefined) {
    spec.base = constraintToSpec(o.base);
    spec.reinterpretedBatchNdims = o.reinterpretedBatchNdims ?? 0;
    return spec;
  }
  if (c.kind === 'zeroSum') {
    spec.eventDim = c.eventDim;
    return spec;
  }
  const parametrized = ['interval', 'greaterThan', 'greaterThanEq', 'lessThan', 'integerInterval'];
  if (parametrized.includes(c.kind)) {
    if (o.lower !== undefined) spec.lower = boundValue(o.lower, c.name);
    if (o.upper !== undefined) spec.upper = boundValue(o.upper, c.name);
  }
  return spec;
}

const NAMED: Record<string, Constraint> = {
  real: C.real,
  circular: C.circular,
  positive: C.positive,
  positiveExp,
  nonnegative: C.nonnegative,
  unitInterval: C.unitInterval,
  simplex: C.simplex,
  ordered: C.ordered,
  lowerCholesky: C.lowerCholesky,
  corrCholesky: C.corrCholesky,
  positiveDefinite: C.positiveDefinite,
  integer,
  nonnegativeInteger: C.nonnegativeInteger,
  boolean: C.boolean,
  corrMatrix: C.corrMatrix,
};

/** Rebuild a constraint from its JSON form. */
export function constraintFromSpec(s: ConstraintSpec): Constraint {
  const named = NAMED[s.kind];
  if (named !== undefined) return named;
  const need = (v: number | undefined, field: string): number => {
    if (typeof v !== 'number') {
      throw new ArgumentError('spec', `constraint ${s.kind}: missing numeric '${field}'`);
    }
    return v;
  };
  switch (s.kind) {
    case 'interval':
      return interval(need(s.lower, 'lower'), need(s.upper, 'upper'));
    case 'integerInterval':
      return integerInterval(need(s.lower, 'lower'), need(s.upper, 'upper'));
    case 'greaterThan':
      return greaterThan(need(s.lower, 'lower'));
    case 'greaterThanEq':
      return greaterThanEq(need(s.lower, 'lower'));
    case 'lessThan':
      return lessThan(need(s.upper, 'upper'));
    case 'zeroSum':
      return C.zeroSum(need(s.eventDim, 'eventDim'));
    case 'independent':
      if (s.base === undefined) throw new ArgumentError('spec', 'independent: missing base');
      return independent(constraintFromSpec(s.base), need(s.reinterpretedBatchNdims, 'n'));
    default:
      throw new ArgumentError('spec', `unknown constraint kind '${s.kind}'`);
  }
}
