/**
 * The fit options of the Laplace fits (`lastLayerLaplace`, `allLayersLaplace`), laplace-torch's
 * constructor arguments in camelCase: checked and given their defaults in one place, in the order
 * the fits have always checked them (the keys, `likelihood`, `hessianStructure`, a number
 * `priorPrecision`, `sigmaNoise`, `batchSize`).
 */
import { ArgumentError } from '../../../utils/errors.js';
import { optionsObject } from '../../../utils/options.js';
import { checkPositive, LAPLACE_OPTIONS } from './checks.js';
import type { LaplaceLikelihood } from './curvature.js';

/** The options both Laplace fits take; `S` is the fit's set of Hessian structures. */
export interface LaplaceFitOptions<S extends string> {
  /** `'classification'` (default) or `'regression'`. */
  likelihood?: LaplaceLikelihood;
  /** The GGN structure (default `'kron'`). */
  hessianStructure?: S;
  /** Initial prior precision `delta` (default 1), or an array checked by the fit. */
  priorPrecision?: number | readonly number[];
  /** Regression noise standard deviation `sigma` (default 1). */
  sigmaNoise?: number;
  /** Inputs per forward pass (default: the fit's). */
  batchSize?: number;
}

/** What differs between the fits: the name, the default batch size, the structures taken. */
export interface LaplaceFitSpec<S extends string> {
  /** The fit's name, for the unknown-key message. */
  readonly what: string;
  /** The default `batchSize`. */
  readonly batchSize: number;
  /** The Hessian structures the fit takes. */
  readonly structures: readonly S[];
  /** What the `hessianStructure` message says is expected. */
  readonly expectedStructure: string;
}

/**
 * The fit options resolved: `likelihood = 'classification'`, `hessianStructure = 'kron'`,
 * `priorPrecision = 1`, `sigmaNoise = 1`, `batchSize` the fit's, each checked (`sigma > 0` and a
 * number `delta > 0` finite, `batchSize` a positive integer; an array `priorPrecision` is checked
 * by the fit, against its blocks and parameters).
 *
 * @throws ArgumentError naming the option (an unknown key, a non-object `options`) before any work.
 */
export function resolveFitOptions<S extends string>(
  options: LaplaceFitOptions<S>,
  spec: LaplaceFitSpec<S>,
): Required<LaplaceFitOptions<S>> {
  optionsObject(options, LAPLACE_OPTIONS, spec.what);
  const o: Required<LaplaceFitOptions<S>> = {
    likelihood: options.likelihood ?? 'classification',
    hessianStructure: options.hessianStructure ?? ('kron' as S),
    priorPrecision: options.priorPrecision ?? 1,
    sigmaNoise: options.sigmaNoise ?? 1,
    batchSize: options.batchSize ?? spec.batchSize,
  };
  if (o.likelihood !== 'classification' && o.likelihood !== 'regression') {
    throw new ArgumentError(
      'likelihood',
      `expected 'classification' or 'regression', got '${String(o.likelihood)}'`,
    );
  }
  if (!(spec.structures as readonly string[]).includes(o.hessianStructure)) {
    throw new ArgumentError(
      'hessianStructure',
      `${spec.expectedStructure}, got '${String(o.hessianStructure)}'`,
    );
  }
  if (typeof o.priorPrecision === 'number') checkPositive(o.priorPrecision, 'priorPrecision');
  checkPositive(o.sigmaNoise, 'sigmaNoise');
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
    throw new ArgumentError('batchSize', `expected a positive integer, got ${o.batchSize}`);
  }
  return o;
}
