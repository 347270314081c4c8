/**
 * Stan's initial step-size heuristic (`init_stepsize`): from the current position, draw a
 * momentum, take one leapfrog step and compare the change in energy with `log(0.8)`; then keep
 * doubling (if the step was accepted with probability above 0.8) or halving the step size until
 * the comparison flips. Each trial starts from the same position with a fresh momentum.
 */
import { DeepProbError } from '../../utils/errors.js';
import { hamiltonian, leapfrog, type PhasePoint, type PotentialRequests } from './integrator.js';
import type { Metric } from './metric.js';
import type { ChainRng } from './rng.js';

/** Search a reasonable first step size from `stepSize` at position `z` (its `p` is ignored). */
export function* findReasonableStepSize(
  z: PhasePoint,
  stepSize: number,
  metric: Metric,
  rng: ChainRng,
): PotentialRequests<number> {
  let eps = stepSize;
  if (!(eps > 0) || eps > 1e7) return eps;
  const logTarget = Math.log(0.8);
  let direction = 0;
  for (let iter = 0; iter < 100; iter++) {
    const start: PhasePoint = { ...z, p: metric.sampleMomentum(rng, new Float64Array(z.q.length)) };
    const h0 = hamiltonian(start, metric);
    const next = yield* leapfrog(start, eps, metric);
    const deltaH = h0 - hamiltonian(next, metric);
    if (direction === 0) direction = deltaH > logTarget ? 1 : -1;
    else if (direction === 1 && !(deltaH > logTarget)) break;
    else if (direction === -1 && !(deltaH < logTarget)) break;
    eps = direction === 1 ? 2 * eps : 0.5 * eps;
    if (eps > 1e7) {
      throw new DeepProbError(
        'MCMC: the step size search diverged to > 1e7 (is the posterior improper?)',
      );
    }
    if (eps === 0) {
      throw new DeepProbError(
        'MCMC: no acceptably small step size (is the potential or its gradient non-finite at the initial point?)',
      );
    }
  }
  return eps;
}
