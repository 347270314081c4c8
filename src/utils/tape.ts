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

/**
 * The gradient tape being recorded, or `null` outside every `tf.grad`/`tf.grads`/
 * `tf.variableGrads`: one object per outermost gradient computation (nested ones share it). A
 * tensor computed under tape `t` carries gradients in a later computation only when that
 * computation records on the same `t`; a cache of derived tensors keys its entries by it.
 * @returns the engine's active tape (compare by identity only).
 */
export function activeTape(): object | null {
  const state = (tf.engine() as unknown as { state: TapeState }).state;
  return state.gradientDepth > 0 ? state.activeTape : null;
}

/**
 * Whether `x` holds a `tf.Variable` among its fields, searched `depth` levels deep (a
 * distribution's parameters, a wrapped base's): values derived from it may go stale after an
 * `assign`, so they are not cached across calls.
 * @param x any value (objects and arrays are searched, tensors are leaves).
 * @param depth how many levels of fields to search (default 4).
 */
export function holdsVariable(x: unknown, depth = 4): boolean {
  if (x instanceof tf.Variable) return true;
  if (depth <= 0 || x === null || typeof x !== 'object' || x instanceof tf.Tensor) return false;
  return Object.values(x as Record<string, unknown>).some((v) => holdsVariable(v, depth - 1));
}

/**
 * Run `f` with the gradient tape off: what it computes is recorded on no tape, so it is a
 * constant to every enclosing `tf.grad` (torch's `torch.no_grad()`), not merely a zero-gradient
 * node whose inputs stay on the path. A non-reparameterized draw (`Categorical.sample` from
 * `probs` that are a parameter) used as gather indices otherwise made tfjs's backward pass ask
 * for the int32 indices' gradient and throw.
 *
 * $$\nabla_\theta\, \operatorname{off}(f)(\theta) \equiv 0\ \text{(no tape node)}$$
 *
 * @param f the computation.
 * @returns what `f` returns.
 * @example
 * ```ts
 * const z = withTapeOff(() => dist.sample()); // a constant to the enclosing gradient
 * ```
 */
export function withTapeOff<T>(f: () => T): T {
  const state = (tf.engine() as unknown as { state: TapeState }).state;
  const depth = state.gradientDepth;
  state.gradientDepth = 0;
  try {
    return f();
  } finally {
    state.gradientDepth = depth;
  }
}
