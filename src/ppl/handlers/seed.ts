/**
 * `seed`: make every random site of a run repeatable (NumPyro's `seed`). Each sample and
 * subsample site without a value gets the next seed of a private generator started at `rngSeed`,
 * so two runs under the same seed draw the same values whatever else happens in the process.
 */
import { ArgumentError } from '../../utils/errors.js';
import { makeRng } from '../../utils/seed.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import type { Message } from '../runtime.js';

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
    if (msg.type === 'param' || msg.value !== null) return;
    msg.seed = Math.floor(this.rng() * 2147483647);
  }
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
