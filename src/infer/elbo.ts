/**
 * The VAE loss of MindSpore's `infer.ELBO`: the negative evidence lower bound of a batch,
 *
 * $$-\mathrm{ELBO} = \underbrace{-\log p(x\mid z)}_{\text{reconstruction}} +
 *   \mathrm{KL}\big(\mathcal N(\mu,\sigma^2)\,\|\,\mathcal N(0, I)\big),$$
 *
 * with the KL in closed form, `sum_j (sigma_j^2 + mu_j^2 - 1)/2 - log sigma_j`, and the
 * reconstruction term given by the output prior:
 * - `'Normal'` (MindSpore's `MSELoss(reduction='sum')`): `sum (x - x̂)^2`, the Normal
 *   log-likelihood up to its scale and constant; with `outputScale: s` the exact negative
 *   log-likelihood of `x ~ N(x̂, s^2)` (Pyro's `Normal(loc_img, scale)`),
 *   `sum (x - x̂)^2 / (2 s^2) + log s + log(2 pi) / 2`;
 * - `'Bernoulli'` (`BCELoss(reduction='sum')`): `-sum x log x̂ + (1 - x) log(1 - x̂)` for a decoder
 *   ending in a sigmoid (outputs in `[0, 1]`, refused otherwise); with `fromLogits: true` the decoder
 *   output `l` is the logit (Pyro's `Bernoulli(logits=...)`) and the loss is the stable
 *   `sum max(l, 0) - x l + log(1 + exp(-|l|))`.
 *
 * Summed over the batch (MindSpore's convention); `reduction: 'mean'` divides by the batch size.
 */
import { checkOptionKeys } from '../utils/options.js';
import { allWithin, checkValues, peekValues, valuesOnHost } from '../utils/tensor.js';
import * as tf from '@tensorflow/tfjs';
import { klNormalNormal, Normal } from '../distributions/normal.js';
import { ArgumentError } from '../utils/errors.js';
import { log1p } from '../utils/log1p.js';
import type { VAEOutput } from '../dpn/vae.js';

/** Options of {@link ELBO}. */
export interface ELBOOptions {
  /** Prior of the latent: only `'Normal'` (standard Normal). */
  latentPrior?: 'Normal';
  /** Likelihood of the data given the decoder output. Default `'Normal'`. */
  outputPrior?: 'Normal' | 'Bernoulli';
  /** `'sum'` over the batch (default, as MindSpore) or `'mean'` per example. */
  reduction?: 'sum' | 'mean';
  /**
   * `'Normal'` only: the observation scale `s > 0` of `x ~ N(x̂, s^2)`; the reconstruction term is
   * then the exact negative log-likelihood in nats. Omitted: MindSpore's plain squared error.
   */
  outputScale?: number;
  /**
   * `'Bernoulli'` only: the decoder outputs logits (no final sigmoid), as Pyro's
   * `Bernoulli(logits=...)` or Keras's `fromLogits`. Default `false` (probabilities).
   */
  fromLogits?: boolean;
}

const EPS = 1e-7;

/**
 * Squared error `sum (x - x̂)^2` (shapes flattened per example). */
export function squaredErrorSum(x: tf.Tensor, recon: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[0] as number;
    return tf.sum(tf.squaredDifference(tf.reshape(x, [n, -1]), tf.reshape(recon, [n, -1])));
  });
}

/**
 * Binary cross-entropy `-sum x log p + (1-x) log(1-p)`, with `p` clipped to `[1e-7, 1-1e-7]`;
 * `log(1 - p)` as an accurate `log1p(-p)` (`tf.log(1 - 1e-7)` is 19% off in float32).
 */
export function bernoulliNLLSum(x: tf.Tensor, p: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[0] as number;
    const xf = tf.reshape(x, [n, -1]);
    const pf = tf.clipByValue(tf.reshape(p, [n, -1]), EPS, 1 - EPS);
    return tf.neg(tf.sum(tf.add(tf.mul(xf, tf.log(pf)), tf.mul(tf.sub(1, xf), log1p(tf.neg(pf))))));
  });
}

/**
 * Bernoulli negative log-likelihood from logits, `sum max(l, 0) - x l + log(1 + exp(-|l|))`:
 * finite and exact for any logit, also for `x` exactly 0 or 1 (with an accurate `log1p`:
 * `tf.log1p` on wasm gave 0 for `softplus(-20) = 2.06e-9`).
 */
export function bernoulliLogitsNLLSum(x: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[0] as number;
    const xf = tf.reshape(x, [n, -1]);
    const l = tf.reshape(logits, [n, -1]);
    return tf.sum(tf.add(tf.sub(tf.relu(l), tf.mul(xf, l)), log1p(tf.exp(tf.neg(tf.abs(l))))));
  });
}

/**
 * Normal negative log-likelihood of `x ~ N(x̂, s^2)` summed over all elements:
 * `sum (x - x̂)^2 / (2 s^2) + numel * (log s + log(2 pi) / 2)`.
 */
export function normalNLLSum(x: tf.Tensor, recon: tf.Tensor, scale: number): tf.Tensor {
  return tf.tidy(() =>
    tf.add(
      tf.div(squaredErrorSum(x, recon), 2 * scale * scale),
      x.size * (Math.log(scale) + 0.5 * Math.log(2 * Math.PI)),
    ),
  );
}

/** `sum KL(N(mu, std^2) || N(0, 1))` over all elements. */
export function klStandardNormalSum(mu: tf.Tensor, std: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const q = new Normal(mu, std, { validateArgs: false });
    const p = new Normal(tf.zerosLike(mu), tf.onesLike(std), { validateArgs: false });
    return tf.sum(klNormalNormal(q, p));
  });
}

/**
 * MindSpore's `ELBO(latentPrior, outputPrior)` as a loss on a VAE output.
 *
 * @example
 * ```ts
 * const loss = new ELBO({ latentPrior: 'Normal', outputPrior: 'Normal' });
 * const l = loss.call(vae.apply(x)); // scalar: sum of squared errors + KL over the batch
 * ```
 */
export class ELBO {
  readonly latentPrior: 'Normal';
  readonly outputPrior: 'Normal' | 'Bernoulli';
  readonly reduction: 'sum' | 'mean';
  /** Observation scale of the `'Normal'` likelihood; `undefined`: plain squared error. */
  readonly outputScale: number | undefined;
  /** Whether a `'Bernoulli'` decoder outputs logits. */
  readonly fromLogits: boolean;
  /** Whether a batch passed the Bernoulli range checks (device backends check only the first). */
  private rangeChecked = false;

  constructor(options: ELBOOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new ArgumentError('options', `expected an object, got ${String(options)}`);
    }
    checkOptionKeys(
      options,
      ['latentPrior', 'outputPrior', 'reduction', 'outputScale', 'fromLogits'],
      'ELBO',
    );
    const lp = options.latentPrior ?? 'Normal';
    if (lp !== 'Normal') {
      throw new ArgumentError('latentPrior', `expected 'Normal', got '${String(lp)}'`);
    }
    const op = options.outputPrior ?? 'Normal';
    if (op !== 'Normal' && op !== 'Bernoulli') {
      throw new ArgumentError(
        'outputPrior',
        `expected 'Normal' or 'Bernoulli', got '${String(op)}'`,
      );
    }
    const r = options.reduction ?? 'sum';
    if (r !== 'sum' && r !== 'mean') {
      throw new ArgumentError('reduction', `expected 'sum' or 'mean', got '${String(r)}'`);
    }
    const sc = options.outputScale;
    if (sc !== undefined) {
      if (op !== 'Normal') {
        throw new ArgumentError(
          'outputScale',
          `is the scale of outputPrior 'Normal', got outputPrior '${op}'`,
        );
      }
      if (typeof sc !== 'number' || !(sc > 0) || !Number.isFinite(sc)) {
        throw new ArgumentError('outputScale', `expected a finite number > 0, got ${String(sc)}`);
      }
    }
    const fl = options.fromLogits ?? false;
    if (typeof fl !== 'boolean') {
      throw new ArgumentError('fromLogits', `expected a boolean, got ${String(fl)}`);
    }
    if (fl && op !== 'Bernoulli') {
      throw new ArgumentError(
        'fromLogits',
        `applies to outputPrior 'Bernoulli', got outputPrior '${op}'`,
      );
    }
    this.latentPrior = lp;
    this.outputPrior = op;
    this.reduction = r;
    this.outputScale = sc;
    this.fromLogits = fl;
  }

  /**
   * The reconstruction term `-log p(x | x̂)` (up to constants for `'Normal'` without
   * `outputScale`), summed.
   */
  reconstructionLoss(x: tf.Tensor, reconX: tf.Tensor): tf.Tensor {
    if (x.size !== reconX.size || x.shape[0] !== reconX.shape[0]) {
      throw new ArgumentError(
        'reconX',
        `expected the decoder output to have as many elements per example as x ([${x.shape}]), got [${reconX.shape}]`,
      );
    }
    if (this.outputPrior === 'Normal') {
      const s = this.outputScale;
      return s === undefined ? squaredErrorSum(x, reconX) : normalNLLSum(x, reconX, s);
    }
    // On a device backend (WebGL/WebGPU) a read is a sync: check the first batch only there.
    const check = !this.rangeChecked || valuesOnHost(reconX);
    if (check && !allWithin(peekValues(x), 0, 1)) {
      checkValues(x, 'x', (v) => v >= 0 && v <= 1, "values in [0, 1] for outputPrior 'Bernoulli'");
    }
    if (this.fromLogits) {
      this.rangeChecked = true;
      return bernoulliLogitsNLLSum(x, reconX);
    }
    if (check && !allWithin(peekValues(reconX), 0, 1)) {
      checkValues(
        reconX,
        'reconX',
        (v) => v >= 0 && v <= 1,
        "probabilities in [0, 1] from the decoder for outputPrior 'Bernoulli' (end it in a sigmoid, or pass fromLogits: true for a decoder that outputs logits)",
      );
    }
    this.rangeChecked = true;
    return bernoulliNLLSum(x, reconX);
  }

  /**
   * Check a network output before any work: `{x, reconX, mu, std}` live tensors, `mu` and `std`
   * of one shape `[n, latent]` with the batch's `n` rows, `std > 0` (read where the values are on
   * the host, as the Bernoulli range check).
   */
  private checkOutput(out: VAEOutput): void {
    if (out === null || typeof out !== 'object') {
      throw new ArgumentError(
        'out',
        `expected a network output {reconX, x, mu, std} (e.g. vae.apply(x)), got ${String(out)}`,
      );
    }
    for (const k of ['x', 'reconX', 'mu', 'std'] as const) {
      const t: unknown = out[k];
      if (!(t instanceof tf.Tensor) || t.isDisposed) {
        throw new ArgumentError(
          k,
          `expected a live tensor in the network output {reconX, x, mu, std}, got ${t instanceof tf.Tensor ? 'a disposed tensor' : String(t)}`,
        );
      }
    }
    const { x, mu, std } = out;
    if (!tf.util.arraysEqual(mu.shape, std.shape) || mu.shape[0] !== x.shape[0]) {
      throw new ArgumentError(
        'std',
        `expected mu and std of one shape with the batch's ${x.shape[0]} rows, got mu [${mu.shape.join(', ')}] and std [${std.shape.join(', ')}]`,
      );
    }
    if (valuesOnHost(std) && !allWithin(peekValues(std), 0, Infinity, true)) {
      checkValues(std, 'std', (v) => v > 0 && v < Infinity, 'standard deviations > 0');
    }
  }

  /** The loss of one batch: reconstruction + KL. */
  call(out: VAEOutput): tf.Scalar {
    this.checkOutput(out);
    return tf.tidy(() => {
      const total = tf.add(
        this.reconstructionLoss(out.x, out.reconX),
        klStandardNormalSum(out.mu, out.std),
      );
      return (
        this.reduction === 'sum' ? total : tf.div(total, out.x.shape[0] as number)
      ) as tf.Scalar;
    });
  }
}
