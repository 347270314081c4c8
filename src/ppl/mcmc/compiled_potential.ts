/**
 * A model's potential recorded once and replayed without tfjs (what `jit` does for NumPyro's
 * potential): one evaluation of `log p(x, T(z)) + log|J_T(z)|` is recorded as a tape of tfjs
 * kernels ({@link recordTape}), and every later `U(z)`, `dU/dz` is a float64 replay of that tape
 * with a reverse-mode pass ({@link TapeReplay}): no kernel dispatch, no tensor, no allocation but
 * the returned gradient.
 *
 * Contract (NumPyro's for `jit`): the model's structure, its kernels and their shapes, must not
 * depend on the latent values, only on its arguments. It is checked when compiling: the replay
 * must agree with the tfjs potential in value and gradient at the initial point and at
 * {@link VERIFY_POINTS} other points (float32 tolerance). `compile: 'auto'` (the default of
 * {@link HMC}/{@link NUTS}) falls back to the tfjs potential when recording, replaying or the
 * check fails (an unsupported kernel, a value-dependent structure); `compile: true` throws then.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import type { PotentialPoint } from './integrator.js';
import type { ModelPotential, Potential } from './potential.js';
import { ChainRng } from './rng.js';
import type { TapeProgram } from './tape/program.js';
import { recordTape } from './tape/record.js';
import { CompiledPotential } from './replayed_potential.js';

export { CompiledPotential };

/** How a kernel evaluates a model's potential: recorded and replayed, tfjs, or either. */
export type CompileMode = 'auto' | boolean;

/** Points besides the initial one at which the replay is checked against tfjs. */
export const VERIFY_POINTS = 3;

/** Record `mp`'s log density at `z` (float32 inputs, as the tfjs potential sees them). */
export function recordPotential(mp: ModelPotential<unknown[]>, z: Float64Array): TapeProgram {
  let program: TapeProgram | undefined;
  tf.tidy(() => {
    const parts = mp.sites.map((s) =>
      tf.tensor(Float32Array.from(z.subarray(s.offset, s.offset + s.size)), s.unconstrainedShape),
    );
    program = recordTape((...xs: tf.Tensor[]) => mp.logDensity(xs), parts);
  });
  return program as TapeProgram;
}

/** Whether the replay agrees with tfjs at `z` (both non-finite counts as agreeing). */
function agrees(
  mp: ModelPotential<unknown[]>,
  cp: CompiledPotential,
  z: Float64Array,
): string | null {
  let ref: PotentialPoint;
  try {
    ref = mp.evaluate(z);
  } catch (e) {
    if (e instanceof ArgumentError && e.argument !== 'model') return null; // rejected point
    throw e;
  }
  const got = cp.valueAndGrad(z);
  if (!Number.isFinite(ref.value) || !ref.grad.every(Number.isFinite)) {
    return Number.isFinite(got.value) && got.grad.every(Number.isFinite)
      ? `tfjs gives U = ${ref.value}, the replay ${got.value}`
      : null;
  }
  const tolV = 1e-3 * Math.max(1, Math.abs(ref.value));
  if (!(Math.abs(got.value - ref.value) <= tolV)) {
    return `U differs: tfjs ${ref.value}, replay ${got.value}`;
  }
  let gmax = 1;
  for (const g of ref.grad) gmax = Math.max(gmax, Math.abs(g));
  for (let i = 0; i < ref.grad.length; i++) {
    if (!(Math.abs((got.grad[i] as number) - (ref.grad[i] as number)) <= 1e-3 * gmax)) {
      return `dU/dz[${i}] differs: tfjs ${ref.grad[i]}, replay ${got.grad[i]}`;
    }
  }
  return null;
}

/**
 * The replayed potential of `mp` recorded at `z0`, or the reason it cannot be used (recording or
 * replay unsupported, or a disagreement with tfjs at `z0` or at {@link VERIFY_POINTS} points drawn
 * from a fixed seed around it, so compiling does not touch the chain's random stream).
 */
export function compilePotential(
  mp: ModelPotential<unknown[]>,
  z0: Float64Array,
): { potential: CompiledPotential } | { reason: string } {
  let cp: CompiledPotential;
  try {
    cp = new CompiledPotential(recordPotential(mp, z0));
  } catch (e) {
    if (e instanceof ArgumentError) throw e;
    return { reason: e instanceof Error ? e.message : String(e) };
  }
  if (cp.dim !== mp.dim) return { reason: `recorded ${cp.dim} inputs, expected ${mp.dim}` };
  const rng = new ChainRng(0x5eed);
  const points = [z0];
  for (let k = 0; k < VERIFY_POINTS; k++) {
    points.push(z0.map((v) => v + 2 * rng.uniform() - 1));
  }
  for (const z of points) {
    const why = agrees(mp, cp, z);
    if (why !== null) return { reason: `the replay does not match tfjs (${why})` };
  }
  return { potential: cp };
}

/**
 * The potential a chain uses: the replayed one when `mode` allows and compiling succeeds, else
 * `mp`. With `mode === true` a failure throws an `ArgumentError` naming the reason.
 */
export function chainPotential(
  mp: ModelPotential<unknown[]>,
  z0: Float64Array,
  mode: CompileMode,
): { potential: Potential; compiled: boolean; reason?: string } {
  if (mode === false) return { potential: mp, compiled: false, reason: 'compile: false' };
  const r = compilePotential(mp, z0);
  if ('potential' in r) return { potential: r.potential, compiled: true };
  if (mode === true) {
    throw new ArgumentError(
      'compile',
      `the model's potential cannot be recorded and replayed: ${r.reason} (use compile: 'auto' or false to run it with tfjs)`,
    );
  }
  return { potential: mp, compiled: false, reason: r.reason };
}
