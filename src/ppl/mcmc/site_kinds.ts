/**
 * What kind of site a trace site is for the MCMC potential: a `deterministic` site (recorded, not
 * scored), an unscored one (a point mass without a `logDensity`), and the check that a latent site
 * is continuous (HMC/NUTS move continuous latents; discrete ones are enumerated or refused).
 */
import { ArgumentError } from '../../utils/errors.js';
import { Delta } from '../../distributions/delta.js';
import type { Message } from '../runtime.js';

/** Whether a trace site is a `deterministic` one (recorded, not scored). */
export function isDeterministicSite(msg: Message): boolean {
  return msg.type === 'sample' && msg.isObserved && msg.fn instanceof Delta;
}

/**
 * Whether a trace site adds nothing to the log joint: a `deterministic` site, i.e. an observed
 * point mass without a `logDensity`. A point mass carrying one (Pyro's `Delta(v, log_density)`,
 * left by the reparameterizers that keep a site's density at its value, e.g. `CircularReparam`,
 * `SplitReparam`, `NeuTraReparam`) is scored like any observed site.
 */
export function isUnscoredSite(msg: Message): boolean {
  return isDeterministicSite(msg) && (msg.fn as Delta).logDensity === null;
}

/** Throw unless the latent site `msg` is continuous. */
export function checkContinuous(msg: Message): void {
  const fn = msg.fn;
  if (fn === null) return;
  if (fn.support.isDiscrete) {
    throw new ArgumentError(
      'model',
      `MCMC: latent site '${msg.name}' has the discrete support '${fn.support.name}'; ` +
        'HMC/NUTS need continuous latents (observe it, or marginalize it out)',
    );
  }
}
