/**
 * A guard against the classic failure of variational Bayesian networks on small data sets: the
 * KL term `beta KL(q || p) / N` outweighs what the likelihood can gain, the optimiser shrinks the
 * posterior onto the prior, and the network predicts at chance.
 */

/** The per-epoch figures the guard looks at (an epoch record of the trainer). */
export interface KlGuardInput {
  /** Mean training NLL per image (nats). */
  trainNll: number;
  /** Mean weighted KL per image, `beta KL / N`, as added to the loss. */
  trainKl: number;
  /** Training accuracy in [0, 1]. */
  trainAccuracy: number;
}

/**
 * A warning when training sits near chance while the weighted KL is a sizeable part of the loss:
 * `accuracy <= 1.5 / K` and `beta KL / N >= 0.1 NLL`. Chance-level NLL is `log K`; a KL per image
 * of that order means the data cannot pay for moving the posterior away from the prior.
 *
 * @param r the epoch's training figures.
 * @param numClasses number of classes `K`.
 * @param datasetSize training-set size `N` (named in the message).
 * @returns the warning text naming the fixes, or `undefined` when training looks healthy.
 * @example
 * ```ts
 * const w = klDominanceWarning(record, 10, 600);
 * if (w !== undefined) console.error(w);
 * ```
 */
export function klDominanceWarning(
  r: KlGuardInput,
  numClasses: number,
  datasetSize: number,
): string | undefined {
  if (!Number.isFinite(r.trainKl) || !Number.isFinite(r.trainNll) || r.trainKl <= 0) {
    return undefined;
  }
  const chance = 1.5 / Math.max(numClasses, 2);
  if (r.trainAccuracy > chance || r.trainKl < 0.1 * r.trainNll) return undefined;
  return (
    `deepprob: warning: the KL term dominates the ELBO (KL/N = ${r.trainKl.toFixed(3)} nats per image ` +
    `vs NLL ${r.trainNll.toFixed(3)}) and training accuracy is at chance ` +
    `(${(100 * r.trainAccuracy).toFixed(1)}%): with N = ${datasetSize} images the prior wins. ` +
    'Fix: temper the KL (--kl-weight 0.1, or a warm-up schedule --kl-weight soenderby), ' +
    'start the posterior narrow (--rho-init -5), use a wider prior (--prior-sigma) or more data.'
  );
}
