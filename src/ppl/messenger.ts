/**
 * The base of every effect handler (Pyro's `Messenger`).
 *
 * JavaScript has no `with` block, so a handler is entered around a function call: {@link
 * Messenger.run} pushes the handler, calls the function and, in a `finally`, pops the handler
 * *and everything above it*, so an exception thrown inside a model can never leave the global
 * stack corrupted (Pyro's `__exit__` does the same).
 */
import { ArgumentError } from '../utils/errors.js';
import { HANDLER_STACK, type Handler, type Message } from './runtime.js';

/** A handler that does nothing; subclasses override one or both hooks. */
export class Messenger implements Handler {
  /** Called on the way in, innermost handler first. */
  processMessage(msg: Message): void {
    void msg;
  }
  /** Called on the way out, after the value is known. */
  postprocessMessage(msg: Message): void {
    void msg;
  }
  /** Hook run after the handler is pushed. */
  protected enter(): void {}
  /** Hook run before the handler is popped. */
  protected exit(): void {}
  /**
   * Forget what this run recorded so far (Pyro's `_reset`): called by
   * `NonlocalExit.resetStack()` when `queue` runs the model again after an escape.
   */
  reset(): void {}

  /** Run `fn` with this handler on the stack. */
  run<R>(fn: () => R): R {
    HANDLER_STACK.push(this);
    const depth = HANDLER_STACK.length;
    this.enter();
    try {
      return fn();
    } finally {
      this.exit();
      const at = HANDLER_STACK.lastIndexOf(this, depth - 1);
      if (at >= 0) HANDLER_STACK.length = at;
    }
  }
}

/** A model or guide: any synchronous function. */
export type Fn<A extends unknown[] = unknown[], R = unknown> = (...args: A) => R;

/** Wrap `fn` so that each call runs under a fresh handler made by `make`. */
export function wrapWith<A extends unknown[], R>(fn: Fn<A, R>, make: () => Messenger): Fn<A, R> {
  if (typeof fn !== 'function') {
    throw new ArgumentError('fn', `expected the model or guide function to wrap, got ${typeof fn}`);
  }
  return (...args: A) => make().run(() => fn(...args));
}
