/**
 * Phase points and the leapfrog (Störmer–Verlet) integrator of Hamiltonian dynamics with
 * `H(q, p) = U(q) + p^T M^{-1} p / 2`:
 *
 * `p_{1/2} = p - (eps/2) dU/dq(q)`, `q' = q + eps M^{-1} p_{1/2}`, `p' = p_{1/2} - (eps/2) dU/dq(q')`.
 *
 * Trajectories are written as generators that `yield` each position whose potential they need
 * and receive `{value: U(q), grad: dU/dq(q)}` back, so the same code serves one chain (the
 * driver answers at once) and a vectorized batch of chains (the driver answers all pending
 * chains with one batched gradient evaluation).
 */
import type { Metric } from './metric.js';

/** The potential energy and its gradient at one position. */
export interface PotentialPoint {
  /** `U(q)`. */
  value: number;
  /** `dU/dq` (owned by the receiver). */
  grad: Float64Array;
  /** Why the model rejected the point (`U = +Infinity`), when it threw: the site's own message. */
  reason?: string;
}

/** A coroutine that asks for potentials at positions and finally returns a `T`. */
export type PotentialRequests<T> = Generator<Float64Array, T, PotentialPoint>;

/** A point of phase space with its cached potential and gradient. */
export interface PhasePoint {
  q: Float64Array;
  p: Float64Array;
  potential: number;
  grad: Float64Array;
}

/** `H = U(q) + K(p)`; NaN becomes +Infinity (an infinitely bad point). */
export function hamiltonian(z: PhasePoint, metric: Metric): number {
  const h = z.potential + metric.kinetic(z.p);
  return Number.isNaN(h) ? Infinity : h;
}

/** One leapfrog step of size `eps` (negative to integrate backwards); returns a new point. */
export function* leapfrog(
  z: PhasePoint,
  eps: number,
  metric: Metric,
): PotentialRequests<PhasePoint> {
  const d = z.q.length;
  const half = 0.5 * eps;
  const p = new Float64Array(d);
  for (let i = 0; i < d; i++) p[i] = (z.p[i] as number) - half * (z.grad[i] as number);
  const q = metric.velocity(p, new Float64Array(d));
  for (let i = 0; i < d; i++) q[i] = (z.q[i] as number) + eps * (q[i] as number);
  const { value, grad } = yield q;
  for (let i = 0; i < d; i++) p[i] = (p[i] as number) - half * (grad[i] as number);
  return { q, p, potential: value, grad };
}

/** Copy of a phase point's arrays. */
export function clonePoint(z: PhasePoint): PhasePoint {
  return { q: z.q.slice(), p: z.p.slice(), potential: z.potential, grad: z.grad.slice() };
}
