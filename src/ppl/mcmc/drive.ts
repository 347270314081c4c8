/**
 * Running potential-request coroutines (the trajectories of `integrator.ts`) against a
 * {@link Potential}: one at a time ({@link drive}), or several in lockstep, answering all pending
 * requests of a round together ({@link driveAll}, one batched evaluation when the potential has
 * `valueAndGradBatch`).
 */
import type { PotentialPoint, PotentialRequests } from './integrator.js';
import type { Potential } from './potential.js';

/** Counters of {@link drive}: evaluations and the milliseconds spent in the potential. */
export interface DriveCounters {
  n: number;
  ms: number;
}

/** Run a potential-request coroutine to completion against `potential`. */
export function drive<T>(
  gen: PotentialRequests<T>,
  potential: Potential,
  count?: DriveCounters,
): T {
  let r = gen.next();
  while (r.done !== true) {
    const q = r.value;
    if (count === undefined) {
      r = gen.next(potential.valueAndGrad(q));
    } else {
      const t = performance.now();
      const point = potential.valueAndGrad(q);
      count.ms += performance.now() - t;
      count.n += 1;
      r = gen.next(point);
    }
  }
  return r.value;
}

/**
 * Run several coroutines to completion together: each round answers every pending request at
 * once (one `valueAndGradBatch` call when the potential has one).
 */
export function driveAll<T>(
  gens: PotentialRequests<T>[],
  potential: Potential,
  count?: DriveCounters,
): T[] {
  if (gens.length === 1) return [drive(gens[0] as PotentialRequests<T>, potential, count)];
  const res = gens.map((g) => g.next());
  for (;;) {
    const active: number[] = [];
    res.forEach((r, k) => {
      if (r.done !== true) active.push(k);
    });
    if (active.length === 0) break;
    const zs = active.map((k) => (res[k] as IteratorYieldResult<Float64Array>).value);
    const t = performance.now();
    const pts =
      potential.valueAndGradBatch !== undefined
        ? potential.valueAndGradBatch(zs)
        : zs.map((z) => potential.valueAndGrad(z));
    if (count !== undefined) {
      count.ms += performance.now() - t;
      count.n += 1;
    }
    active.forEach((k, a) => {
      res[k] = (gens[k] as PotentialRequests<T>).next(pts[a] as PotentialPoint);
    });
  }
  return res.map((r) => r.value as T);
}

/**
 * A coroutine asking for potentials at a batch of positions at a time (an ensemble's half-update:
 * every active walker's next request), answered with the points in the same order.
 */
export type BatchRequests<T> = Generator<Float64Array[], T, PotentialPoint[]>;

/**
 * Run a {@link BatchRequests} coroutine to completion: each batch in one `valueAndGradBatch` call
 * when the potential has one (else one evaluation per position), counted as one evaluation.
 */
export function driveBatches<T>(
  gen: BatchRequests<T>,
  potential: Potential,
  count?: DriveCounters,
): T {
  let r = gen.next();
  while (r.done !== true) {
    const zs = r.value;
    const t = performance.now();
    const pts =
      potential.valueAndGradBatch !== undefined && zs.length > 1
        ? potential.valueAndGradBatch(zs)
        : zs.map((z) => potential.valueAndGrad(z));
    if (count !== undefined) {
      count.ms += performance.now() - t;
      count.n += 1;
    }
    r = gen.next(pts);
  }
  return r.value;
}
