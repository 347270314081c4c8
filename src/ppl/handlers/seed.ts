/**
 * `seed`: make every random site of a run repeatable (NumPyro's `seed`). Each sample and
 * subsample site without a value gets the next seed of a private generator started at `rngSeed`,
 * so two runs under the same seed draw the same values whatever else happens in the process.
 */
import { ArgumentError } from '../../utils/errors.js';
import { makeRng } from '../../utils/seed.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import { HANDLER_STACK, type Message } from '../runtime.js';

/** Hands out per-site seeds. @internal */
export class SeedMessenger extends Messenger {
  private rng: () => number = () => 0;
  constructor(private readonly rngSeed: number) {
    super();
  }
  protected override enter(): void {
    this.rng = makeRng(this.rngSeed);
  }
  override processMessage(msg: Message): void {
    // a seed set by an inner handler stays (NumPyro's seed keeps a site's `rng_key`)
    if (msg.type === 'param' || msg.value !== null || msg.seed !== undefined) return;
    msg.seed = this.next();
  }
  /** The next seed of this handler's stream (what the next unvalued site would get). */
  next(): number {
    return Math.floor(this.rng() * 2147483647);
  }
}

/**
 * The next seed of the innermost active {@link seed} handler, or `undefined` outside every one:
 * how an inference routine that runs the model internally, hidden from the outer handlers (e.g.
 * `inferDiscrete`), draws its randomness from the caller's `seed` stream, as NumPyro's
 * `infer_discrete` takes its `rng_key` from the enclosing `seed`.
 *
 * `block` does not hide the seed stream: this is NumPyro's `prng_key()` message, which its
 * `block` always lets through (numpyro#1957), so `seed(block(f))` and `block(seed(f))` give the
 * same draws (see {@link seedBelow}). Pyro's `seed` sets the global torch RNG, which no handler
 * hides either.
 */
export function handlerSeed(): number | undefined {
  return seedBelow(HANDLER_STACK.length);
}

/**
 * The next seed of the innermost {@link seed} handler below stack position `at` (the handlers
 * outside the one at `at`), or `undefined`: what `block` gives a message it hides, since the
 * seed handler outside it will not see the message (NumPyro's `block` fetches the key of a hidden
 * sample or plate site with `prng_key()`). @internal
 */
export function seedBelow(at: number): number | undefined {
  for (let i = Math.min(at, HANDLER_STACK.length) - 1; i >= 0; i--) {
    const h = HANDLER_STACK[i];
    if (h instanceof SeedMessenger) return h.next();
  }
  return undefined;
}

/**
 * Run `fn` with seeded sampling.
 *
 * @example
 * ```ts
 * const a = trace(seed(model, 0)).getTrace(); // same values as
 * const b = trace(seed(model, 0)).getTrace();
 * ```
 */
export function seed<A extends unknown[], R>(fn: Fn<A, R>, rngSeed: number): Fn<A, R> {
  if (!Number.isFinite(rngSeed))
    throw new ArgumentError('rngSeed', `expected a finite number, got ${String(rngSeed)}`);
  return wrapWith(fn, () => new SeedMessenger(rngSeed));
}
