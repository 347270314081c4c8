/**
 * Annealing schedules for the weight of the KL regulariser. A schedule maps the training
 * progress to a coefficient; the loss uses `min(1, schedule(...))`.
 */
import { ArgumentError } from '../../utils/errors.js';

/** Where training is: the step within the whole run, the total number of steps, the epoch. */
export interface TrainingProgress {
  /** Global step (0-based, counting batches or samples consistently with `totalSteps`). */
  step: number;
  /** Steps in the whole run (epochs × steps per epoch). */
  totalSteps: number;
  /** Epoch (0-based). */
  epoch: number;
}

/** A KL annealing schedule. */
export type Schedule = (progress: TrainingProgress) => number;

/** labml's default KL schedule: 0 at the start, 0.01 at 20% of training, 1 at the end. */
export const LABML_KL_SCHEDULE: readonly (readonly [number, number])[] = [
  [0, 0],
  [0.2, 0.01],
  [1, 1],
];

/**
 * Piecewise-linear interpolation of `points` `(x, y)` (sorted by `x`) at `x`; constant beyond
 * the ends.
 * @param points breakpoints sorted by increasing `x`.
 * @param x where to evaluate.
 * @example
 * ```ts
 * piecewiseLinear([[0, 0], [1, 10]], 0.25); // 2.5
 * ```
 */
export function piecewiseLinear(points: readonly (readonly [number, number])[], x: number): number {
  if (points.length === 0) throw new ArgumentError('points', 'expected at least one (x, y) pair');
  const first = points[0] as readonly [number, number];
  if (x <= first[0]) return first[1];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i] as readonly [number, number];
    const [x0, y0] = points[i - 1] as readonly [number, number];
    if (x1 < x0) throw new ArgumentError('points', 'expected x values in increasing order');
    if (x <= x1) return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  }
  return (points[points.length - 1] as readonly [number, number])[1];
}

/**
 * labml's `RelativePiecewise`: piecewise-linear in the relative progress `step / totalSteps`.
 *
 * $$\lambda(t) = \operatorname{interp}\big(t / T;\ (0,0),(0.2,0.01),(1,1)\big)$$
 *
 * @param points breakpoints in relative progress (default {@link LABML_KL_SCHEDULE}).
 * @example
 * ```ts
 * relativePiecewise()({ step: 20, totalSteps: 100, epoch: 0 }); // 0.01
 * ```
 */
export function relativePiecewise(
  points: readonly (readonly [number, number])[] = LABML_KL_SCHEDULE,
): Schedule {
  return ({ step, totalSteps }) => {
    if (!(totalSteps > 0)) {
      throw new ArgumentError(
        'totalSteps',
        `expected a positive number of steps, got ${totalSteps}`,
      );
    }
    return piecewiseLinear(points, step / totalSteps);
  };
}

/**
 * Sensoy et al.'s epoch annealing `lambda = min(1, epoch / annealingEpochs)` (default 10).
 * @param annealingEpochs epochs to reach full weight.
 * @example
 * ```ts
 * epochAnnealing()({ step: 0, totalSteps: 1, epoch: 3 }); // 0.3
 * ```
 */
export function epochAnnealing(annealingEpochs = 10): Schedule {
  if (!(annealingEpochs > 0)) {
    throw new ArgumentError(
      'annealingEpochs',
      `expected a positive number, got ${annealingEpochs}`,
    );
  }
  return ({ epoch }) => Math.min(1, epoch / annealingEpochs);
}

/** Names of the built-in schedules: `'relative-piecewise'` (labml) and `'epoch'` (Sensoy). */
export type ScheduleName = 'relative-piecewise' | 'epoch';

/** The schedule with the given name. */
export function scheduleByName(name: string): Schedule {
  switch (name) {
    case 'relative-piecewise':
      return relativePiecewise();
    case 'epoch':
      return epochAnnealing(10);
    default:
      throw new ArgumentError(
        'klSchedule',
        `expected 'relative-piecewise' or 'epoch', got '${name}'`,
      );
  }
}
