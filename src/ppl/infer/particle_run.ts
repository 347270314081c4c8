/**
 * A run of user code inside a plate of particles (SVGD's `svgd_particles`, the SMC filter's
 * `particles`): a failure that is not one of deepprob's own errors (a tfjs shape error: the code
 * does not broadcast over the particles' dim) is rethrown as an {@link ArgumentError} naming the
 * program, the plate's size and dim, and the way out, with the original message and `cause`.
 */
import { ArgumentError, DeepProbError } from '../../utils/errors.js';

/**
 * `run()`, its foreign errors explained.
 * @param what the program's argument name (`model`, `guide`).
 * @param numParticles the plate's size `N`. @param dim its (negative) dim.
 */
export function inParticlePlateRun<T>(
  what: string,
  numParticles: number,
  dim: number,
  run: () => T,
): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof DeepProbError || !(e instanceof Error)) throw e;
    const err = new ArgumentError(
      what,
      `the ${what} runs inside a plate of ${numParticles} particles at dim ${dim}, so every ` +
        `sample site has an extra batch dim of size ${numParticles} there, and the run failed: ` +
        `${e.message}. Write it to broadcast over dims left of its plates, and give ` +
        'maxPlateNesting as its largest number of nested plates',
    );
    (err as Error & { cause?: unknown }).cause = e;
    throw err;
  }
}
