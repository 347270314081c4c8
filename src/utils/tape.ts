/**
 * Freeing what an aborted gradient computation leaves behind. `tf.grads`/`tf.variableGrads` keep
 * a copy of every tensor a kernel saves for its backward pass on the engine's tape, and free them
 * only when the backward pass completes; when the function being differentiated throws (a user
 * model rejecting a value, a bad site), those copies stay alive and outside every `tf.tidy`. This
 * module frees them as the engine does after a completed outermost gradient.
 */
import * as tf from '@tensorflow/tfjs';

/** The part of tfjs's engine state this module reads (tfjs-core `EngineState`). */
interface TapeState {
  gradientDepth: number;
  activeTape: { saved?: tf.Tensor[] }[] | null;
}

/**
 * Free the saved tensors of a tape left by an aborted outermost gradient computation (no-op
 * inside an enclosing gradient, whose tape is still in use, and when no tape is left).
 */
export function disposeAbortedTape(): void {
  const state = (tf.engine() as unknown as { state: TapeState }).state;
  if (state.gradientDepth !== 0 || state.activeTape === null) return;
  for (const node of state.activeTape) {
    for (const t of node.saved ?? []) if (!t.isDisposed) t.dispose();
  }
  state.activeTape = null;
}

/**
 * Run `f` (which computes gradients); if it throws, free the aborted tape's saved tensors, then
 * rethrow.
 * @param f the computation, e.g. `() => tf.variableGrads(loss, vars)`.
 * @returns what `f` returns.
 * @example
 * ```ts
 * const { value, grads } = withTapeCleanup(() => tf.variableGrads(() => loss(), vars));
 * ```
 */
export function withTapeCleanup<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    disposeAbortedTape();
    throw e;
  }
}
